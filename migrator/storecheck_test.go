package migrator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// failingInspector is a SQLite store whose cheap checks fail in one role.
type failingInspector struct {
	stores.Store
	failAs stores.Role
}

func (f failingInspector) Inspect(ctx context.Context, role stores.Role) []stores.Check {
	if role == f.failAs {
		return []stores.Check{{Name: "permissions", Status: stores.CheckFail, Detail: "may only read"}}
	}
	return []stores.Check{{Name: "permissions", Status: stores.CheckWarn, Detail: "could write"}}
}

// TestBackfillRefusesAStoreThatFailsItsChecks: the backfill checks the
// source as a reader and the target as a writer before anything else, and
// refuses naming the reason; nothing is recorded or written.
func TestBackfillRefusesAStoreThatFailsItsChecks(t *testing.T) {
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, srcDSN := sqliteStore(t, "legacy")
	dst, dstDSN := sqliteStore(t, "target")
	if _, err := src.Apply(context.Background(), []stores.Write{{Entity: "task", Key: "k", Client: "c", Version: 1, Data: doc("k", 1)}}); err != nil {
		t.Fatal(err)
	}
	cfg := func() BackfillConfig {
		return BackfillConfig{Source: src, Target: dst, SourceName: srcDSN, TargetName: dstDSN, Entities: []string{"task"},
			JS: e.js, State: e.state, Stream: testStream, TargetConsumer: targetName, SkipWatermarkWait: true, Log: testLog(t)}
	}

	c := cfg()
	c.Target = failingInspector{dst, stores.RoleTarget}
	_, err := Backfill(context.Background(), c)
	if !errors.Is(err, stores.ErrInspectFailed) || !strings.Contains(err.Error(), "target store") || !strings.Contains(err.Error(), "permissions: may only read") {
		t.Fatalf("Backfill with a target that may only read = %v, want ErrInspectFailed naming the reason", err)
	}
	if _, found, err := e.state.BackfillRun(context.Background()); found || err != nil {
		t.Fatalf("a refused backfill recorded a run (found %v, %v)", found, err)
	}
	if _, err := dst.Get(context.Background(), "task", "k"); !errors.Is(err, stores.ErrNoEntity) {
		t.Fatalf("a refused backfill wrote the target: %v", err)
	}

	c = cfg()
	c.Source = failingInspector{src, stores.RoleSource}
	if _, err := Backfill(context.Background(), c); !errors.Is(err, stores.ErrInspectFailed) || !strings.Contains(err.Error(), "source store") {
		t.Fatalf("Backfill with a failing source = %v, want ErrInspectFailed", err)
	}

	// A dry run only reads: the target is checked as a reader.
	c = cfg()
	c.Target = failingInspector{dst, stores.RoleTarget}
	if _, err := DryRun(context.Background(), c); err != nil {
		t.Fatalf("DryRun with a target that may only read: %v", err)
	}

	// Warnings do not refuse; the backfill runs.
	c = cfg()
	c.Target = failingInspector{dst, stores.RoleSource}
	if _, err := Backfill(context.Background(), c); err != nil {
		t.Fatalf("Backfill with warnings only: %v", err)
	}
}
