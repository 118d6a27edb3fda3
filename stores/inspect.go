package stores

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInspectFailed matches every *InspectError.
	ErrInspectFailed = errors.New("store failed its start-up checks")
	// ErrNotScratch: DropScratch was asked to drop an entity whose name
	// does not start with ScratchPrefix.
	ErrNotScratch = errors.New("not a preflight scratch entity")
)

// InspectError says that a store is unusable in its role: the cheap checks
// of its Inspector failed.
type InspectError struct {
	// Store is the redacted DSN.
	Store string
	Role  Role
	// Failed holds the failing checks, each with its reason.
	Failed []Check
}

func (e *InspectError) Error() string {
	reasons := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		reasons[i] = c.Name + ": " + c.Detail
	}
	return fmt.Sprintf("%s store %s is unusable: %s (run switchyard preflight for the full report)",
		e.Role, e.Store, strings.Join(reasons, "; "))
}

// Is makes errors.Is(err, ErrInspectFailed) true.
func (e *InspectError) Is(target error) bool { return target == ErrInspectFailed }

// RequireRole runs the cheap checks of st for role, as workers and the
// backfill do before they touch any record, and returns them. When one
// fails it also returns an *InspectError naming every failing check and its
// reason. st is a store of any interface (Store, Reader, Writer); dsn
// names it in the error and is redacted. A store whose
// adapter implements no Inspector (a test double) passes with no checks.
func RequireRole(ctx context.Context, st any, role Role, dsn string) ([]Check, error) {
	in, ok := st.(Inspector)
	if !ok {
		return nil, nil
	}
	checks := in.Inspect(ctx, role)
	var failed []Check
	for _, c := range checks {
		if c.Status == CheckFail {
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		return checks, &InspectError{Store: Redact(dsn), Role: role, Failed: failed}
	}
	return checks, nil
}
