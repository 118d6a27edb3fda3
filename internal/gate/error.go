package gate

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFailed matches every *Error: a gate did not pass and nothing was
// changed.
var ErrFailed = errors.New("gate failed")

// Error is a gate that did not pass. A refused move (Stage set) is the
// promotion gates' refusal; without a Stage it is the readiness gate of
// cleanup.
type Error struct {
	// Client is the client a refused move was for; empty for a default or
	// rollout change, whose conditions name the clients.
	Client string
	// Stage is the stage a refused move aimed at; empty for the readiness
	// gate.
	Stage Stage
	// Conditions are the conditions checked: every one for the readiness
	// gate, only the failing ones for a refused move.
	Conditions []Condition
}

// Failed returns the conditions that do not hold.
func (e *Error) Failed() []Condition { return Failed(e.Conditions) }

func (e *Error) Error() string {
	failed := e.Failed()
	parts := make([]string, len(failed))
	for i, c := range failed {
		parts[i] = c.String()
	}
	if e.Stage == "" {
		return "readiness gate failed: " + strings.Join(parts, "; ")
	}
	who := "client " + QuoteClient(e.Client)
	if e.Client == "" {
		who = "the change"
	}
	return fmt.Sprintf("moving %s to %s refused: %s (use force with a reason to override)", who, e.Stage, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrFailed) true.
func (e *Error) Is(target error) bool { return target == ErrFailed }

// QuoteClient quotes a client id for a message, cut to 64 bytes.
func QuoteClient(c string) string {
	if len(c) > 64 {
		c = c[:64] + "…"
	}
	return fmt.Sprintf("%q", c)
}
