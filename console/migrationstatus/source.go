package migrationstatus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/subscriptions"
)

// Source collects the migration status for the console. Every part is
// optional: a nil State, JetStream or Store leaves its part out, and a part
// that fails to load is reported in MigrationStatus.Problems instead of
// failing the whole status.
type Source struct {
	State *migrator.State
	// JS and Stream locate the event stream whose subscriptions are shown.
	JS     jetstream.JetStream
	Stream string
	// Flags supplies the number of clients per stage.
	Flags *flags.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ console.StatusSource = (*Source)(nil)

// MigrationStatus reads every part. It fails only when no part could be
// read at all, so the console shows "unavailable" with the reasons.
func (s *Source) MigrationStatus(ctx context.Context) (console.MigrationStatus, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	st := console.MigrationStatus{CollectedAt: now()}
	var loaded int
	problem := func(part string, err error) {
		st.Problems = append(st.Problems, fmt.Sprintf("%s: %v", part, err))
	}
	if s.State != nil {
		if rec, err := s.State.Phase(ctx); err != nil {
			problem("phase", err)
		} else {
			st.Phase, loaded = string(rec.Phase), loaded+1
		}
		if _, entities, _, err := s.State.BackfillProgress(ctx); err != nil {
			problem("backfill", err)
		} else {
			loaded++
			for _, e := range entities {
				st.Backfill = append(st.Backfill, console.BackfillProgress{
					Entity: e.Entity, Copied: e.Scanned, Total: e.Estimate, Complete: e.Done,
				})
			}
		}
		if v, found, err := s.State.LastVerify(ctx, ""); err != nil {
			problem("verify", err)
		} else {
			loaded++
			if found {
				st.LastVerify = &console.VerifyResult{At: v.FinishedAt, Clean: v.Clean, Findings: int(v.Differences), Summary: verifySummary(v)}
			}
		}
	}
	if s.JS != nil && s.Stream != "" {
		if subs, err := subscriptions.List(ctx, s.JS, s.Stream); err != nil {
			problem("subscriptions", err)
		} else {
			loaded++
			for _, sub := range subs {
				name := sub.Consumer
				if sub.Role != "" {
					name += " (" + sub.Role + ")"
				}
				st.Subscriptions = append(st.Subscriptions, console.SubscriptionStatus{
					Name: name, Lag: sub.Lag, Redeliveries: uint64(max(sub.Redelivered, 0)), DeadLetters: sub.DeadLetters,
				})
			}
		}
	}
	if s.Flags != nil {
		if counts, err := s.Flags.CountByStage(ctx); err != nil {
			problem("clients per stage", err)
		} else {
			loaded++
			st.StageCounts = map[console.Stage]int{}
			for stage, n := range counts {
				st.StageCounts[console.Stage(stage)] = n
			}
		}
	}
	if loaded == 0 {
		if len(st.Problems) == 0 {
			return st, fmt.Errorf("%w: no migration state, stream or flag store configured", console.ErrUnavailable)
		}
		return st, fmt.Errorf("%w: %s", console.ErrUnavailable, st.Problems[0])
	}
	return st, nil
}

func verifySummary(v migrator.VerifyResult) string {
	s := fmt.Sprintf("%d source and %d target rows compared", v.RowsSource, v.RowsTarget)
	if !v.Complete {
		s += "; the run stopped before covering every range"
	}
	if v.Settled > 0 {
		s += fmt.Sprintf("; %d keys settled once the subscriptions caught up", v.Settled)
	}
	return s
}
