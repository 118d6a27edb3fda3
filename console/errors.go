package console

import (
	"errors"

	"github.com/switchyard/switchyard/internal/gate"
)

// Errors a Flags implementation returns (wrapped, matched with errors.Is)
// so the console answers with the right status and message.
var (
	// ErrClientNotFound: the client id is unknown to the flag store.
	ErrClientNotFound = errors.New("client not found")
	// ErrConflict: the client's flag changed since it was read (revision
	// or expected stage mismatch). The user should reload and retry.
	ErrConflict = errors.New("the client's stage changed meanwhile")
	// ErrGateRefused: a promotion gate does not pass and the change was
	// not forced. Implementations should return a *GateRefusal so the
	// failing conditions can be shown. It is gate.ErrFailed, the one gate
	// error flags.ErrGateRefused and migrator.ErrGateFailed are too.
	ErrGateRefused = gate.ErrFailed
	// ErrInvalidChange: the flag store rejected the change as malformed
	// (unknown stage, missing reason, bad client id).
	ErrInvalidChange = errors.New("invalid change")
	// ErrAuditIncomplete: the audit entry of a change could not be
	// written. The wrapped error says whether the change itself was applied
	// (it never is when the store has no audit log at all).
	ErrAuditIncomplete = errors.New("audit log write failed")
	// ErrUnavailable: the backing store (NATS, the migrator) cannot be
	// reached right now.
	ErrUnavailable = errors.New("unavailable")
)

// Errors of the console's own checks.
var (
	// ErrInvalidInput matches every rejected request parameter; the
	// concrete error is an *InputError naming the field.
	ErrInvalidInput = errors.New("invalid input")
	// ErrBadCredentials: unknown user or wrong password. The two cases are
	// deliberately indistinguishable.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrInvalidUsers matches every problem in the users configuration.
	ErrInvalidUsers = errors.New("invalid console users")
	// ErrNoUsers: LoadUsers was given no users file and UsersEnv is not set.
	ErrNoUsers = errors.New("no console users given")
	// ErrWeakPassword: HashPassword refused the password.
	ErrWeakPassword = errors.New("password not accepted")
	// ErrWeakHash: HashPassword refused the bcrypt cost.
	ErrWeakHash = errors.New("bcrypt cost not accepted")
	// ErrNoPassword: HashPasswordFrom read no password.
	ErrNoPassword = errors.New("no password")
)

// InputError is a rejected request parameter.
type InputError struct {
	Field string // form field or JSON member, e.g. "reason"
	Msg   string // what is wrong, e.g. "is longer than 500 characters"
	// TooLarge marks size violations, answered with 413 instead of 400.
	TooLarge bool
}

func (e *InputError) Error() string        { return e.Field + " " + e.Msg }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// GateRefusal is the error a Flags implementation returns when promotion
// gates block a change: the one gate error, gate.Error, whose Conditions
// are the failing ones. It matches ErrGateRefused.
type GateRefusal = gate.Error

// refusalMessage is what the console says about a refused change: the
// failing conditions with their details.
func refusalMessage(failed []GateCondition) string {
	msg := "promotion gate refused the change:"
	for i, c := range failed {
		if i > 0 {
			msg += ";"
		}
		msg += " " + c.Name
		if c.Detail != "" {
			msg += " (" + c.Detail + ")"
		}
	}
	return msg
}
