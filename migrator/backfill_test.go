package migrator

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestBackfillNeverClobbersTheLiveStream(t *testing.T) {
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 1500)
	seed(t, src, "notes", 10)
	// The source deleted k000007; the target subscription updated k000001,
	// deleted k000002 and created k999999 since it started.
	mustApply(t, src, stores.Write{Entity: "tasks", Key: keyOf(7), Client: "c1", Version: 11, Deleted: true})
	mustApply(t, dst,
		stores.Write{Entity: "tasks", Key: keyOf(1), Client: "c1", Version: 20, Data: doc("live", 20)},
		stores.Write{Entity: "tasks", Key: keyOf(2), Client: "c2", Version: 21, Deleted: true},
		stores.Write{Entity: "tasks", Key: "k999999", Client: "c0", Version: 22, Data: doc("new", 22)},
	)

	counted := &rowCounter{Store: src}
	rep, err := Backfill(context.Background(), e.backfillConfig(counted, dst, "tasks", "notes"))
	if err != nil {
		t.Fatal(err)
	}
	// Planning reads every row once; the bounded chunks are copied from the
	// rows the planner read, so only the final chunks are read again.
	if n := counted.rows.Load(); n > 1510+2*200 {
		t.Fatalf("%d source rows read for 1510 rows: the planner's pages were not reused", n)
	}
	if !rep.Complete || rep.Joined {
		t.Fatalf("report %+v: want a complete new run", rep)
	}
	for i := range 1500 {
		got := mustGet(t, dst, "tasks", keyOf(i))
		switch i {
		case 1:
			if got.Version != 20 {
				t.Fatalf("k000001 clobbered by the backfill: %+v", got)
			}
		case 2:
			if !got.Deleted || got.Version != 21 {
				t.Fatalf("k000002 tombstone lost: %+v", got)
			}
		case 7:
			if !got.Deleted || got.Version != 11 {
				t.Fatalf("source tombstone k000007 not copied as a tombstone: %+v", got)
			}
		default:
			if got.Deleted || got.Version != 10 {
				t.Fatalf("%s: %+v", keyOf(i), got)
			}
		}
	}
	ok, reason, err := e.state.BackfillComplete(context.Background())
	if err != nil || !ok {
		t.Fatalf("BackfillComplete = %v, %q, %v", ok, reason, err)
	}
	var tasks EntityProgress
	for _, p := range rep.Entities {
		if p.Entity == "tasks" {
			tasks = p
		}
	}
	// 1500 source rows (one a tombstone): k000001 and k000002 skipped.
	if tasks.Scanned != 1500 || tasks.Skipped != 2 || tasks.Inserted != 1498 || tasks.Tombstones != 1 || !tasks.Done {
		t.Fatalf("tasks checkpoint %+v", tasks)
	}
	if ph, _ := e.state.Phase(context.Background()); ph.Phase != PhaseBackfilling {
		t.Fatalf("phase %s, want backfilling", ph.Phase)
	}
	// A second run finds the backfill complete and does nothing.
	rep2, err := Backfill(context.Background(), e.backfillConfig(src, dst, "notes", "tasks"))
	if err != nil || !rep2.Joined || !rep2.Complete || rep2.RowsThisProcess != 0 {
		t.Fatalf("second run: %+v, %v", rep2, err)
	}
}

// rowCounter counts the rows a store's scans return.
type rowCounter struct {
	stores.Store
	rows atomic.Int64
}

func (c *rowCounter) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	recs, err := c.Store.Scan(ctx, entity, r)
	c.rows.Add(int64(len(recs)))
	return recs, err
}

func TestBackfillRequiresTargetSubscription(t *testing.T) {
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	_, err := Backfill(context.Background(), e.backfillConfig(src, dst, "tasks"))
	if !errors.Is(err, ErrNoTargetSubscription) {
		t.Fatalf("got %v, want ErrNoTargetSubscription", err)
	}
	cfg := e.backfillConfig(src, dst, "Bad-Entity")
	if _, err := Backfill(context.Background(), cfg); err == nil {
		t.Fatal("invalid entity accepted")
	}
}

// TestBackfillResumesAfterInterrupts cancels a throttled backfill twice once
// some chunks are done, then lets it finish: every row arrives, and no
// finished chunk is counted twice.
func TestBackfillResumesAfterInterrupts(t *testing.T) {
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	const rows = 3000
	seed(t, src, "tasks", rows)

	var lastDone int
	for attempt := range 2 {
		cfg := e.backfillConfig(src, dst, "tasks")
		cfg.MaxRate = 4000
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := Backfill(ctx, cfg); errc <- err }()
		testenv.Eventually(t, 20*time.Second, func() (bool, string) {
			p, _, err := e.state.EntityProgress(context.Background(), "tasks")
			return err == nil && p.ChunksDone > lastDone, fmt.Sprintf("%d chunks done, err %v", p.ChunksDone, err)
		}, "some chunks copied")
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("attempt %d: interrupted backfill returned %v, want context.Canceled", attempt, err)
		}
		p, _, _ := e.state.EntityProgress(context.Background(), "tasks")
		if p.Done {
			t.Fatalf("attempt %d: the backfill finished before it was interrupted; slow it down", attempt)
		}
		lastDone = p.ChunksDone
	}
	cfg := e.backfillConfig(src, dst, "tasks")
	rep, err := Backfill(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Joined {
		t.Fatal("the resumed backfill must join the interrupted run")
	}
	p := rep.Entities[0]
	if p.Scanned != rows || p.Inserted+p.Skipped != rows || p.ChunksDone != p.Planned {
		t.Fatalf("checkpoint after resume %+v: want %d rows scanned once", p, rows)
	}
	recs, err := dst.Scan(context.Background(), "tasks", stores.Range{})
	if err != nil || len(recs) != rows {
		t.Fatalf("target holds %d rows (%v), want %d", len(recs), err, rows)
	}
}

// TestRestartElsewhereStopsTheStaleProcess: a backfill restarted by another
// process makes the one still working for the old run stop with
// ErrRunMismatch instead of mixing the runs; the new run completes.
func TestRestartElsewhereStopsTheStaleProcess(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 3000)

	stale := e.backfillConfig(src, dst, "tasks")
	stale.MaxRate = 1000
	errc := make(chan error, 1)
	go func() { _, err := Backfill(ctx, stale); errc <- err }()
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		p, _, err := e.state.EntityProgress(ctx, "tasks")
		return err == nil && p.ChunksDone > 0, "no chunk done"
	}, "the first run copies")

	_, js := e.srv.Connect()
	st, err := OpenState(ctx, js, "")
	if err != nil {
		t.Fatal(err)
	}
	fresh := e.backfillConfig(src, dst, "tasks")
	fresh.JS, fresh.State, fresh.Restart, fresh.MaxRate = js, st, true, 1_000_000
	rep, err := Backfill(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Joined || !rep.Complete || rep.Entities[0].Scanned != 3000 {
		t.Fatalf("restarted run %+v", rep)
	}
	if err := <-errc; !errors.Is(err, ErrRunMismatch) {
		t.Fatalf("the stale process returned %v, want ErrRunMismatch", err)
	}
}
