package migrator

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// DryRunEntity is what a backfill would do with one entity.
type DryRunEntity struct {
	Entity string `json:"entity"`
	// Rows counts the source rows, Tombstones those of them that are
	// tombstones.
	Rows       int64 `json:"rows"`
	Tombstones int64 `json:"tombstones"`
	// WouldInsert counts rows the target has neither a row nor a tombstone
	// of; WouldSkip those it already has.
	WouldInsert int64 `json:"would_insert"`
	WouldSkip   int64 `json:"would_skip"`
}

// DryRunReport is what a backfill would do, without writing.
type DryRunReport struct {
	Watermark       uint64         `json:"watermark"`
	WatermarkPassed bool           `json:"watermark_passed"`
	WatermarkState  string         `json:"watermark_state"`
	Entities        []DryRunEntity `json:"entities"`
}

// DryRun checks the preconditions of a backfill (the target subscription
// exists; whether the legacy subscription reached the watermark, without
// waiting) and scans the source and the target in key order, counting what
// the copy would insert and skip. It writes nothing, not even state.
func DryRun(ctx context.Context, cfg BackfillConfig) (DryRunReport, error) {
	if err := cfg.defaults(); err != nil {
		return DryRunReport{}, err
	}
	var rep DryRunReport
	if err := requireStores(ctx, cfg, stores.RoleSource); err != nil {
		return rep, err
	}
	wm, err := TargetWatermark(ctx, cfg.JS, cfg.Stream, cfg.TargetConsumer)
	if err != nil {
		return rep, err
	}
	rep.Watermark = wm.StartSeq
	switch {
	case cfg.SkipWatermarkWait:
		rep.WatermarkPassed, rep.WatermarkState = true, "not checked (--no-watermark-wait)"
	default:
		st, err := subscriptions.Inspect(ctx, cfg.JS, cfg.Stream, cfg.LegacyConsumer)
		if err != nil {
			return rep, fmt.Errorf("legacy subscription: %w", err)
		}
		rep.WatermarkPassed = st.Processed(wm.StartSeq)
		rep.WatermarkState = fmt.Sprintf("legacy %s ack floor %d, watermark %d", cfg.LegacyConsumer, st.AckFloor, wm.StartSeq)
	}
	for _, entity := range cfg.Entities {
		de, err := dryRunEntity(ctx, cfg.Source, cfg.Target, entity, cfg.BatchRows)
		if err != nil {
			return rep, err
		}
		cfg.Log.Info("dry run", "entity", entity, "rows", de.Rows, "would_insert", de.WouldInsert, "would_skip", de.WouldSkip)
		rep.Entities = append(rep.Entities, de)
	}
	return rep, nil
}

func dryRunEntity(ctx context.Context, source, target stores.Reader, entity string, page int) (DryRunEntity, error) {
	de := DryRunEntity{Entity: entity}
	sc := newRangeCursor(source, entity, stores.Range{}, page)
	tc := newRangeCursor(target, entity, stores.Range{}, page)
	for {
		s, err := sc.peek(ctx)
		if err != nil {
			return de, fmt.Errorf("dry run %s: scan source: %w", entity, err)
		}
		if s == nil {
			return de, nil
		}
		t, err := tc.peek(ctx)
		if err != nil {
			return de, fmt.Errorf("dry run %s: scan target: %w", entity, err)
		}
		if t != nil && t.Key < s.Key {
			tc.advance()
			continue
		}
		de.Rows++
		if s.Deleted {
			de.Tombstones++
		}
		if t != nil && t.Key == s.Key {
			de.WouldSkip++
			tc.advance()
		} else {
			de.WouldInsert++
		}
		sc.advance()
	}
}
