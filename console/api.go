package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// apiSession returns who is logged in and what they may do.
func (c *Console) apiSession(w http.ResponseWriter, r *http.Request) {
	id := identityFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"user": id.user, "role": id.role, "can_change": id.role.CanChange()})
}

// apiSearch lists clients: GET /api/clients?q=&page=.
func (c *Console) apiSearch(w http.ResponseWriter, r *http.Request) {
	res, err := c.search(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	out := searchJSON{Query: res.Query, After: res.After, Next: res.Next, Clients: []clientSummaryJSON{}}
	for _, s := range res.Clients {
		out.Clients = append(out.Clients, clientSummaryJSON{ID: s.ID, Stage: s.Stage, Source: string(s.Source)})
	}
	writeJSON(w, http.StatusOK, out)
}

// apiClient returns one client: GET /api/clients/{id}.
func (c *Console) apiClient(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	d, err := c.flags.Client(ctx, id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toClientJSON(d))
}

// apiHistory returns one client's audit entries, newest first.
func (c *Console) apiHistory(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	es, err := c.flags.Audit(ctx, AuditQuery{ClientID: id, Limit: c.opts.AuditLimit})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAuditPageJSON(c.auditView(es, 0)))
}

// apiAudit returns audit entries of all clients, newest first:
// GET /api/audit?before=<seq>.
func (c *Console) apiAudit(w http.ResponseWriter, r *http.Request) {
	v, err := c.auditPage(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAuditPageJSON(v))
}

// apiMigration returns the migration status, or 503 when unavailable.
func (c *Console) apiMigration(w http.ResponseWriter, r *http.Request) {
	st, err := c.migrationStatus(r)
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, "unavailable", "migration status unavailable: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// apiSetStage sets a client's stage (operators only, CSRF checked).
func (c *Console) apiSetStage(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	var req setStageRequest
	if err := decodeJSON(r, &req); err != nil {
		c.failErr(w, r, err)
		return
	}
	change := StageChange{ClientID: id, ExpectedRevision: req.ExpectedRevision, Force: req.Force, Actor: identityFrom(r.Context()).user}
	if change.To, err = parseStage("to", req.To); err != nil {
		c.failErr(w, r, err)
		return
	}
	if req.ExpectedStage != "" {
		if change.ExpectedStage, err = parseStage("expected_stage", req.ExpectedStage); err != nil {
			c.failErr(w, r, err)
			return
		}
	}
	if change.Reason, err = validateReason(req.Reason); err != nil {
		c.failErr(w, r, err)
		return
	}
	c.applyChange(w, r, change)
}

// apiRollback moves a client back to legacy (operators only). Gates do not
// apply to a rollback.
func (c *Console) apiRollback(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	var req rollbackRequest
	if err := decodeJSON(r, &req); err != nil {
		c.failErr(w, r, err)
		return
	}
	change := StageChange{ClientID: id, To: StageLegacy, ExpectedRevision: req.ExpectedRevision, Actor: identityFrom(r.Context()).user}
	if req.ExpectedStage != "" {
		if change.ExpectedStage, err = parseStage("expected_stage", req.ExpectedStage); err != nil {
			c.failErr(w, r, err)
			return
		}
	}
	if change.Reason, err = validateReason(req.Reason); err != nil {
		c.failErr(w, r, err)
		return
	}
	c.applyChange(w, r, change)
}

// apiClear removes a client's own stage so it follows the rollout or the
// default again (operators only).
func (c *Console) apiClear(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	var req clearRequest
	if err := decodeJSON(r, &req); err != nil {
		c.failErr(w, r, err)
		return
	}
	change := OverrideClear{ClientID: id, ExpectedRevision: req.ExpectedRevision, Force: req.Force, Actor: identityFrom(r.Context()).user}
	if change.Reason, err = validateReason(req.Reason); err != nil {
		c.failErr(w, r, err)
		return
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	d, err := c.flags.ClearOverride(ctx, change)
	if err != nil {
		c.log.Info("override clear refused", "client", id, "user", change.Actor, "force", change.Force, "err", err)
		c.failErr(w, r, err)
		return
	}
	c.log.Info("override cleared", "client", id, "stage", d.Stage, "user", change.Actor, "force", change.Force, "reason", change.Reason)
	writeJSON(w, http.StatusOK, toClientJSON(d))
}

func (c *Console) applyChange(w http.ResponseWriter, r *http.Request, change StageChange) {
	ctx, cancel := c.backend(r)
	defer cancel()
	d, err := c.flags.SetStage(ctx, change)
	if err != nil {
		c.log.Info("stage change refused", "client", change.ClientID, "to", change.To, "user", change.Actor, "force", change.Force, "err", err)
		c.failErr(w, r, err)
		return
	}
	c.log.Info("stage changed", "client", change.ClientID, "to", change.To, "user", change.Actor, "force", change.Force, "reason", change.Reason)
	writeJSON(w, http.StatusOK, toClientJSON(d))
}

// clientIDFrom reads and validates the {id} path segment.
func clientIDFrom(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := ValidateClientID(id); err != nil {
		return "", err
	}
	return id, nil
}

// decodeJSON reads exactly one JSON object with known members into v.
// Member names must match exactly and appear once (see checkMembers). The
// body must be declared application/json, which also keeps HTML forms of
// other sites from reaching the API.
func decodeJSON(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &InputError{Field: "Content-Type", Msg: "must be application/json"}
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return &InputError{Field: "body", Msg: "could not be read"}
	}
	if err := checkMembers(data, jsonFields(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &maxErr):
			return err
		case errors.Is(err, io.EOF):
			return &InputError{Field: "body", Msg: "is empty: a JSON object is expected"}
		case errors.As(err, &syntaxErr):
			return &InputError{Field: "body", Msg: fmt.Sprintf("is not valid JSON (at byte %d)", syntaxErr.Offset)}
		case errors.As(err, &typeErr):
			return &InputError{Field: typeErr.Field, Msg: "has the wrong type: " + typeErr.Type.String() + " expected"}
		default:
			return &InputError{Field: "body", Msg: "is not a valid request: " + err.Error()}
		}
	}
	if dec.More() {
		return &InputError{Field: "body", Msg: "holds more than one JSON value"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return &InputError{Field: "body", Msg: "has trailing data after the JSON object"}
	}
	return nil
}
