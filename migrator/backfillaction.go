package migrator

import (
	"context"
	"strconv"
)

// BackfillAction is a change an operator makes to running copiers: pause,
// resume or rate (a new MaxRate; 0 removes the cap), with the reason
// recorded in the BackfillControl.
type BackfillAction struct {
	Action  string
	MaxRate int
	Reason  string
}

// ParseBackfillRate reads the argument of a rate action: one non-negative
// number of rows per second. A bad one is a *ConfigError.
func ParseBackfillRate(args []string) (int, error) {
	if len(args) != 1 {
		return 0, configErrorf("backfill rate: give one number of rows per second (0 removes the cap)")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		return 0, configErrorf("backfill rate: %q is not a non-negative number of rows per second", args[0])
	}
	return n, nil
}

// ControlBackfill applies a to the backfill control, which running copiers
// follow within a second, and returns the control as it now is.
func (s *State) ControlBackfill(ctx context.Context, a BackfillAction) (BackfillControl, error) {
	switch a.Action {
	case "pause", "resume", "rate":
	default:
		return BackfillControl{}, configErrorf("backfill: unknown action %q (pause, resume, rate)", a.Action)
	}
	return s.UpdateBackfillControl(ctx, func(c *BackfillControl) {
		switch a.Action {
		case "pause", "resume":
			c.Paused = a.Action == "pause"
		case "rate":
			c.MaxRate = a.MaxRate
		}
		c.Reason = a.Reason
	})
}
