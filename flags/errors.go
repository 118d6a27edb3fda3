package flags

import (
	"errors"
	"fmt"
	"strings"

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
	// ErrGateRefused matches every *GateRefusedError.
	ErrGateRefused = errors.New("promotion gates refused the change")
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

// GateRefusedError lists the promotion conditions a change failed.
type GateRefusedError struct {
	// Client is the client the change was for; empty for a default or
	// rollout change, whose Failed conditions name the clients.
	Client string
	Stage  Stage
	Failed []Condition
}

func (e *GateRefusedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = c.String()
	}
	who := "client " + quoteClient(e.Client)
	if e.Client == "" {
		who = "the change"
	}
	return fmt.Sprintf("moving %s to %s refused: %s (use force with a reason to override)", who, e.Stage, strings.Join(parts, "; "))
}

func (e *GateRefusedError) Is(target error) bool { return target == ErrGateRefused }

func quoteClient(c string) string {
	if len(c) > 64 {
		c = c[:64] + "…"
	}
	return fmt.Sprintf("%q", c)
}

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
