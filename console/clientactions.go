package console

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// ErrVerifyRunning means a verify of the client is already running.
var ErrVerifyRunning = errors.New("a verify of this client is already running")

// Verifier compares one client's rows in the legacy and the target store
// on request from the client page. Package console/migrationstatus
// implements it over package migrator.
type Verifier interface {
	// VerifyClient records the request in the audit stream and starts the
	// verify in the background; it returns once the verify has started.
	// It fails with ErrVerifyRunning when a verify of the client is
	// already running, with ErrAuditIncomplete when the request could not be
	// recorded (nothing is started then), and with ErrUnavailable when the
	// stores or the migration state cannot be reached.
	VerifyClient(ctx context.Context, req VerifyRequest) (ClientVerify, error)
	// ClientVerify returns the verify running for client, if any, and the
	// newest finished verify that covered the client.
	ClientVerify(ctx context.Context, client string) (ClientVerify, error)
}

// VerifyRequest asks for a verify of one client's rows.
type VerifyRequest struct {
	ClientID string
	Reason   string
	Actor    string
}

// ClientVerify is the verify state of one client.
type ClientVerify struct {
	// Entities are what a verify from the console compares.
	Entities []string
	// Running is when the verify in progress started; zero when none runs.
	Running time.Time
	// RunningBy is who started it.
	RunningBy string
	// Last is the newest finished verify that covered the client; nil
	// when none did.
	Last *VerifyResult
	// Failed is the error of the last verify started here, when it ended
	// without a result.
	Failed string
}

// shadowResetRequest is the body of POST /api/clients/{id}/shadow-reset.
type shadowResetRequest struct {
	Reason string `json:"reason"`
}

// verifyRequest is the body of POST /api/clients/{id}/verify.
type verifyRequest struct {
	Reason string `json:"reason"`
}

// clientVerifyJSON is the verify state in API answers.
type clientVerifyJSON struct {
	Entities  []string      `json:"entities"`
	Running   *time.Time    `json:"running_since,omitempty"`
	RunningBy string        `json:"running_by,omitempty"`
	Last      *VerifyResult `json:"last,omitempty"`
	Failed    string        `json:"failed,omitempty"`
}

func toClientVerifyJSON(v ClientVerify) clientVerifyJSON {
	out := clientVerifyJSON{Entities: v.Entities, RunningBy: v.RunningBy, Last: v.Last, Failed: v.Failed}
	if out.Entities == nil {
		out.Entities = []string{}
	}
	if !v.Running.IsZero() {
		t := v.Running.UTC()
		out.Running = &t
	}
	return out
}

// apiResetShadow clears a client's shadow counters (operators only, CSRF
// checked, audited).
func (c *Console) apiResetShadow(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	var req shadowResetRequest
	if err := decodeJSON(r, &req); err != nil {
		c.failErr(w, r, err)
		return
	}
	reset := ShadowReset{ClientID: id, Actor: identityFrom(r.Context()).user}
	if reset.Reason, err = validateReason(req.Reason); err != nil {
		c.failErr(w, r, err)
		return
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	d, err := c.flags.ResetShadow(ctx, reset)
	if err != nil {
		c.log.Info("shadow reset refused", "client", id, "user", reset.Actor, "err", err)
		c.failErr(w, r, err)
		return
	}
	c.log.Info("shadow counters reset", "client", id, "user", reset.Actor, "reason", reset.Reason)
	writeJSON(w, http.StatusOK, toClientJSON(d))
}

// apiVerifyClient starts a verify of one client's rows (operators only,
// CSRF checked, audited). It answers 202 once the verify runs.
func (c *Console) apiVerifyClient(w http.ResponseWriter, r *http.Request) {
	id, err := clientIDFrom(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if c.verifier == nil {
		c.fail(w, r, http.StatusServiceUnavailable, "unavailable", "this console cannot verify: it was started without the legacy and target stores (see docs/console.md)")
		return
	}
	var req verifyRequest
	if err := decodeJSON(r, &req); err != nil {
		c.failErr(w, r, err)
		return
	}
	vr := VerifyRequest{ClientID: id, Actor: identityFrom(r.Context()).user}
	if vr.Reason, err = validateReason(req.Reason); err != nil {
		c.failErr(w, r, err)
		return
	}
	ctx, cancel := c.backend(r)
	defer cancel()
	v, err := c.verifier.VerifyClient(ctx, vr)
	if errors.Is(err, ErrVerifyRunning) {
		c.fail(w, r, http.StatusConflict, "verify_running", err.Error())
		return
	}
	if err != nil {
		c.log.Info("client verify refused", "client", id, "user", vr.Actor, "err", err)
		c.failErr(w, r, err)
		return
	}
	c.log.Info("client verify started", "client", id, "user", vr.Actor, "reason", vr.Reason)
	writeJSON(w, http.StatusAccepted, toClientVerifyJSON(v))
}

// clientVerify reads the client's verify state for its page; nil without a
// verifier. A failure is shown on the page rather than failing it.
func (c *Console) clientVerify(ctx context.Context, id string) (*ClientVerify, string) {
	if c.verifier == nil {
		return nil, ""
	}
	v, err := c.verifier.ClientVerify(ctx, id)
	if err != nil {
		c.log.Warn("client verify state", "client", id, "err", err)
		return nil, err.Error()
	}
	return &v, ""
}
