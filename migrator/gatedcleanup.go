package migrator

import (
	"context"
	"fmt"
	"io"
)

// GatedCleanup is cleanup as an operator runs it: the readiness gate is
// printed, then the legacy subscription is removed if the gate passes, or,
// with Config.Force, once Confirm agrees although it fails.
type GatedCleanup struct {
	// Config.Force asks to remove the subscription although the gate
	// fails; Cleanup is forced only after Confirm returned nil.
	Config CleanupConfig
	// CheckOnly prints the gate and removes nothing.
	CheckOnly bool
	// Confirm asks the operator before a forced removal; an error refuses
	// it and is returned. Required with Config.Force.
	Confirm func() error
}

// Run evaluates the gate, writes it to w (WriteReadiness) and removes the
// legacy subscription as GatedCleanup says, writing what it did. A gate
// that fails without Force (or with CheckOnly) is a *GateError saying that
// nothing was removed.
func (g GatedCleanup) Run(ctx context.Context, w io.Writer) error {
	cfg := g.Config
	cfg.Force = false
	conds, err := CheckReadiness(ctx, cfg)
	if err != nil {
		return err
	}
	switch passed := WriteReadiness(w, conds); {
	case g.CheckOnly && !passed:
		return fmt.Errorf("%w; nothing removed", &GateError{Conditions: conds})
	case g.CheckOnly:
		fmt.Fprintln(w, "the gate passes; run without --check to remove", cfg.LegacyConsumer)
		return nil
	case !passed && !g.Config.Force:
		return fmt.Errorf("%w; nothing removed (override with --force --reason R)", &GateError{Conditions: conds})
	case !passed:
		if err := g.Confirm(); err != nil {
			return err
		}
		cfg.Force = true
	}
	rec, err := Cleanup(ctx, cfg)
	if err != nil {
		return err
	}
	forced := ""
	if rec.Forced {
		forced = " (forced: " + rec.Reason + ")"
	}
	fmt.Fprintf(w, "removed the legacy subscription %s on %s%s; the migration is cleaned-up\n", rec.Consumer, rec.Stream, forced)
	return nil
}
