package migrator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
)

func openTestState(t *testing.T) *State {
	t.Helper()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	st, err := OpenState(context.Background(), js, "")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPhaseMovesForwardOnly(t *testing.T) {
	ctx := context.Background()
	st := openTestState(t)
	rec, err := st.Phase(ctx)
	if err != nil || rec.Phase != PhaseSubscribed {
		t.Fatalf("fresh bucket: phase %v, %v; want subscribed", rec.Phase, err)
	}
	if err := st.Advance(ctx, PhaseBackfilling); err != nil {
		t.Fatal(err)
	}
	if err := st.Advance(ctx, PhaseBackfilling); err != nil {
		t.Fatalf("advancing to the same phase must be a no-op: %v", err)
	}
	if err := st.Advance(ctx, PhaseSwitching); err != nil {
		t.Fatal(err)
	}
	err = st.Advance(ctx, PhaseVerifying)
	if !errors.Is(err, ErrPhaseBackward) {
		t.Fatalf("backward advance: got %v, want ErrPhaseBackward", err)
	}
	if err := st.Advance(ctx, Phase("bogus")); err == nil {
		t.Fatal("unknown phase accepted")
	}
	rec, err = st.Phase(ctx)
	if err != nil || rec.Phase != PhaseSwitching || len(rec.History) != 2 {
		t.Fatalf("phase %+v, %v; want switching after 2 changes", rec, err)
	}
}

func TestLastVerifyPerClient(t *testing.T) {
	ctx := context.Background()
	st := openTestState(t)
	if _, found, err := st.LastVerify(ctx, "acme"); err != nil || found {
		t.Fatalf("nothing verified yet: found=%v err=%v", found, err)
	}
	t0 := time.Now().UTC()
	whole := VerifyResult{Entities: []string{"tasks"}, Complete: true, Differences: 2, StartedAt: t0, FinishedAt: t0.Add(time.Second),
		DirtyClients: map[string]int64{"acme": 2}}
	if err := st.SaveVerify(ctx, whole); err != nil {
		t.Fatal(err)
	}
	got, found, err := st.LastVerify(ctx, "acme")
	if err != nil || !found || got.Clean || got.Differences != 2 || !got.Derived {
		t.Fatalf("acme from a dirty whole verify: %+v found=%v err=%v", got, found, err)
	}
	got, _, _ = st.LastVerify(ctx, "globex")
	if !got.Clean {
		t.Fatalf("globex had no findings in a complete whole verify, want clean: %+v", got)
	}
	own := VerifyResult{Client: "acme", Entities: []string{"tasks"}, Complete: true, StartedAt: t0.Add(2 * time.Second), FinishedAt: t0.Add(3 * time.Second)}
	if err := st.SaveVerify(ctx, own); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.LastVerify(ctx, "acme")
	if !got.Clean || got.Derived {
		t.Fatalf("acme's own newer clean verify must win: %+v", got)
	}
	w, _, _ := st.LastVerify(ctx, "")
	if w.Clean {
		t.Fatalf("whole result must stay dirty: %+v", w)
	}
}

func TestBackfillCompleteReasons(t *testing.T) {
	ctx := context.Background()
	st := openTestState(t)
	ok, reason, err := st.BackfillComplete(ctx)
	if err != nil || ok || reason == "" {
		t.Fatalf("no run: ok=%v reason=%q err=%v", ok, reason, err)
	}
	run := BackfillRun{ID: "r1", Entities: []string{"a", "b"}}
	if err := putJSON(ctx, st.kv, keyBackfillRun, run); err != nil {
		t.Fatal(err)
	}
	for _, e := range run.Entities {
		if _, err := st.updateEntity(ctx, e, func(p *EntityProgress, _ bool) error {
			p.Entity, p.RunID, p.Done = e, "r1", e == "a"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ok, reason, _ = st.BackfillComplete(ctx)
	if ok {
		t.Fatalf("entity b is not done, got complete: %s", reason)
	}
	if _, err := st.updateEntity(ctx, "b", func(p *EntityProgress, _ bool) error { p.Done = true; return nil }); err != nil {
		t.Fatal(err)
	}
	ok, reason, _ = st.BackfillComplete(ctx)
	if !ok {
		t.Fatalf("want complete, got %s", reason)
	}
}

func TestControlUpdatesAreWatched(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openTestState(t)
	ch, err := st.WatchBackfillControl(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := <-ch; c.Paused || c.MaxRate != 0 {
		t.Fatalf("initial control %+v, want running uncapped", c)
	}
	if _, err := st.UpdateBackfillControl(ctx, func(c *BackfillControl) { c.Paused, c.MaxRate = true, 500 }); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-ch:
		if !c.Paused || c.MaxRate != 500 {
			t.Fatalf("watched %+v, want paused at 500", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("control change not delivered")
	}
	if _, err := st.UpdateBackfillControl(ctx, func(c *BackfillControl) { c.MaxRate = -1 }); err == nil {
		t.Fatal("negative rate accepted")
	}
}
