package migrator

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Phase is one step of a migration. Phases move forward only.
type Phase string

// The phases, in order.
const (
	// PhaseSubscribed: the target subscription exists and is being fed; the
	// records it never saw are not copied yet. A bucket without a phase is
	// in this phase.
	PhaseSubscribed Phase = "subscribed"
	// PhaseBackfilling: the backfill copier has started.
	PhaseBackfilling Phase = "backfilling"
	// PhaseVerifying: the backfill is complete and a verify ran to the end.
	PhaseVerifying Phase = "verifying"
	// PhaseSwitching: clients have started reading from the target store.
	PhaseSwitching Phase = "switching"
	// PhaseCleanedUp: the legacy subscription was removed.
	PhaseCleanedUp Phase = "cleaned-up"
)

// Phases lists every phase in order.
var Phases = []Phase{PhaseSubscribed, PhaseBackfilling, PhaseVerifying, PhaseSwitching, PhaseCleanedUp}

// Rank is the position of p in Phases, or -1 for an unknown phase.
func (p Phase) Rank() int {
	for i, q := range Phases {
		if p == q {
			return i
		}
	}
	return -1
}

// Valid reports whether p is a known phase.
func (p Phase) Valid() bool { return p.Rank() >= 0 }

// Before reports whether p comes before q.
func (p Phase) Before(q Phase) bool { return p.Rank() < q.Rank() }

func (p Phase) String() string { return string(p) }

// ParsePhase parses a phase name. An unknown name is an error listing the
// known ones.
func ParsePhase(s string) (Phase, error) {
	p := Phase(strings.TrimSpace(s))
	if !p.Valid() {
		names := make([]string, len(Phases))
		for i, q := range Phases {
			names[i] = string(q)
		}
		return "", fmt.Errorf("phase %q is not one of %s", s, strings.Join(names, ", "))
	}
	return p, nil
}

// PhaseChange is one step of the phase history.
type PhaseChange struct {
	From Phase     `json:"from"`
	To   Phase     `json:"to"`
	At   time.Time `json:"at"`
}

// PhaseRecord is the stored phase and how it got there.
type PhaseRecord struct {
	Phase Phase     `json:"phase"`
	Since time.Time `json:"since,omitzero"`
	// History lists the changes, oldest first.
	History []PhaseChange `json:"history,omitempty"`
}

// Phase returns the current phase. A bucket without one is in
// PhaseSubscribed (Since is zero then).
func (s *State) Phase(ctx context.Context) (PhaseRecord, error) {
	rec, _, found, err := getJSON[PhaseRecord](ctx, s.kv, keyPhase)
	if err != nil {
		return PhaseRecord{}, err
	}
	if !found || !rec.Phase.Valid() {
		return PhaseRecord{Phase: PhaseSubscribed}, nil
	}
	return rec, nil
}

// Advance moves the phase forward to phase. Advancing to the current phase
// is a no-op; skipping phases forward is allowed (the caller checks its own
// preconditions, as the gates do). Moving backward fails with an error
// matching ErrPhaseBackward and leaves the phase unchanged; an unknown phase
// is an error too.
func (s *State) Advance(ctx context.Context, phase Phase) error {
	if !phase.Valid() {
		_, err := ParsePhase(string(phase))
		return err
	}
	_, err := updateJSON(ctx, s.kv, keyPhase, func(rec *PhaseRecord, found bool) error {
		cur := rec.Phase
		if !found || !cur.Valid() {
			cur = PhaseSubscribed
		}
		if cur == phase && found {
			return errNoChange
		}
		if phase.Before(cur) {
			return fmt.Errorf("advance to %s: the migration is already %s: %w", phase, cur, ErrPhaseBackward)
		}
		now := s.now()
		rec.History = append(rec.History, PhaseChange{From: cur, To: phase, At: now})
		rec.Phase, rec.Since = phase, now
		return nil
	})
	return err
}
