package flags

import (
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/internal/jsdeclare"
)

var (
	// ErrInvalid matches every *InvalidError: bad input such as a malformed
	// client id, an unknown stage or a missing reason.
	ErrInvalid = errors.New("invalid flag input")
	// ErrConflict: the stored revision is not the one the caller expected;
	// someone else changed the flag in between. Read again and retry.
	ErrConflict = errors.New("flag revision conflict")
	// ErrNotFound: the client has no override (or the record does not exist).
	ErrNotFound = errors.New("not found")
	// ErrGateRefused matches every *GateRefusedError (gate.ErrFailed, which
	// the migrator's readiness gate shares).
	ErrGateRefused = gate.ErrFailed
	// ErrAudit: the change was applied but could not be appended to the audit
	// stream. The returned result still describes the applied change.
	ErrAudit = errors.New("audit append failed")
	// ErrUnavailable: the flag bucket could not be reached.
	ErrUnavailable = errors.New("flag bucket unavailable")
)

// InvalidError names the field that is wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string        { return e.Field + ": " + e.Reason }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// GateRefusedError lists the promotion conditions a change failed, in
// Conditions; its Client is empty for a default or rollout change, whose
// conditions name the clients.
type GateRefusedError = gate.Error

// declareMode maps a MustExist setting to how a bucket or stream is opened.
func declareMode(mustExist bool) jsdeclare.Mode {
	if mustExist {
		return jsdeclare.MustExist
	}
	return jsdeclare.Create
}

// openError wraps the failure to open a bucket or stream: a missing one
// (jsdeclare.ErrMissing) names itself; anything else means JetStream was
// not reachable or refused (ErrUnavailable).
func openError(what, name string, err error) error {
	if errors.Is(err, jsdeclare.ErrMissing) {
		return err
	}
	return fmt.Errorf("%s %s: %w: %w", what, name, ErrUnavailable, err)
}
