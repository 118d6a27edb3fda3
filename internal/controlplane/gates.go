package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/migrator"
)

// Gates answers the promotion gates' questions from the migrator's state:
// the flag store's gates (flags.GateSource) ask the migration, through it,
// without the flags package knowing the migrator.
type Gates struct {
	State *migrator.State
}

var _ flags.GateSource = Gates{}

// BackfillComplete reports whether the backfill copied every entity.
func (g Gates) BackfillComplete(ctx context.Context) (bool, string, error) {
	return g.State.BackfillComplete(ctx)
}

// ClientVerifyClean reports whether the newest verify covering client
// found both stores equal for it. A client no verify has covered yet is not
// clean.
func (g Gates) ClientVerifyClean(ctx context.Context, client string) (bool, string, error) {
	v, found, err := g.State.LastVerify(ctx, client)
	switch {
	case err != nil:
		return false, "", err
	case !found:
		return false, "no verify has covered this client yet", nil
	case v.Clean:
		return true, "clean at " + v.FinishedAt.UTC().Format(time.RFC3339), nil
	case !v.Complete:
		return false, "the last verify stopped before covering every range", nil
	case v.Differences < 0:
		return false, "the last verify found differences in too many clients to tell this one apart", nil
	}
	return false, fmt.Sprintf("%d differences found at %s", v.Differences, v.FinishedAt.UTC().Format(time.RFC3339)), nil
}
