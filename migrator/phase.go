package migrator

import (
	"fmt"
	"strings"
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
