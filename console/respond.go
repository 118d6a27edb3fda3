package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is the JSON body of every API error.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Conditions are the failing gate conditions of a gate_refused error.
	Conditions []gateConditionJSON `json:"conditions,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// writeError answers without templates: JSON for the API, plain text
// otherwise. Used where a full page cannot or need not be rendered.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if isAPI(r) {
		writeJSON(w, status, apiError{Error: apiErrorBody{Code: code, Message: msg}})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

// fail answers with an error: JSON for the API, the error page otherwise.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if isAPI(r) {
		writeError(w, r, status, code, msg)
		return
	}
	c.renderError(w, r, status, msg)
}

// failErr maps err to a status and a message that names the problem. Only
// unexpected errors are logged; their details stay out of the response.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, err error) {
	body := apiErrorBody{Code: "internal", Message: "internal error; the details are in the console's log"}
	status := http.StatusInternalServerError
	var inErr *InputError
	var gate *GateRefusal
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		status, body.Code, body.Message = http.StatusRequestEntityTooLarge, "too_large", bodyTooLargeMessage
	case errors.As(err, &inErr):
		status, body.Code, body.Message, body.Field = http.StatusBadRequest, "invalid_input", inErr.Error(), inErr.Field
		if inErr.TooLarge {
			status, body.Code = http.StatusRequestEntityTooLarge, "too_large"
		}
	case errors.As(err, &gate):
		status, body.Code, body.Message = http.StatusConflict, "gate_refused", refusalMessage(gate.Failed())+"; fix the failing conditions or force the change with a reason"
		body.Conditions = gateConditionsJSON(gate.Failed())
	case errors.Is(err, ErrGateRefused):
		status, body.Code, body.Message = http.StatusConflict, "gate_refused", err.Error()
	case errors.Is(err, ErrClientNotFound):
		status, body.Code, body.Message = http.StatusNotFound, "not_found", err.Error()
	case errors.Is(err, ErrConflict):
		status, body.Code, body.Message = http.StatusConflict, "conflict", "the client's stage changed since the page was loaded; reload and review it again"
	case errors.Is(err, ErrInvalidChange):
		status, body.Code, body.Message = http.StatusBadRequest, "invalid_change", err.Error()
	case errors.Is(err, ErrAuditIncomplete):
		c.log.Error("audit log write failed", "method", r.Method, "path", r.URL.Path, "err", err)
		status, body.Code, body.Message = http.StatusInternalServerError, "audit_incomplete", err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		status, body.Code, body.Message = http.StatusServiceUnavailable, "unavailable", "the flag store did not answer in time; try again"
	case errors.Is(err, ErrUnavailable):
		status, body.Code, body.Message = http.StatusServiceUnavailable, "unavailable", err.Error()
	default:
		c.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		writeJSON(w, status, apiError{Error: body})
		return
	}
	c.renderError(w, r, status, body.Message)
}

// formError turns a form parsing failure into an input error.
func formError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return err
	}
	return &InputError{Field: "form", Msg: "could not be parsed: " + err.Error()}
}
