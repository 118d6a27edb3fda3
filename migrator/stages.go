package migrator

import "context"

// ReadStages tells how many clients read from which store. The flags
// package implements it; cleanup refuses while any client still reads from
// the legacy store, and status shows the counts. A nil ReadStages means
// flags are not in use.
type ReadStages interface {
	// CountByStage returns the number of clients per read stage (the
	// names of gate.Stages), the default stage included.
	CountByStage(ctx context.Context) (map[string]int, error)
}

// DefaultStages is optionally implemented by a ReadStages whose clients
// without an override follow a default stage or a percentage rollout: those
// clients cannot be counted, so cleanup checks the stages they may be in.
type DefaultStages interface {
	// StagesWithoutOverride returns the stages a client without an
	// override can be in (the default, and the rollout's stage if any).
	StagesWithoutOverride(ctx context.Context) ([]string, error)
}
