package workers_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/workers"
)

// pruneSpy records the cutoffs it is asked to prune before, failing once.
type pruneSpy struct {
	mu      sync.Mutex
	cutoffs []time.Time
}

func (p *pruneSpy) PruneLedger(_ context.Context, cutoff time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutoffs = append(p.cutoffs, cutoff)
	if len(p.cutoffs) == 1 {
		return 0, errors.New("database is locked")
	}
	return 3, nil
}

func (p *pruneSpy) calls() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.cutoffs...)
}

func TestPruneLedgerRunsAtOnceAndEveryIntervalUntilCancelled(t *testing.T) {
	spy := &pruneSpy{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { workers.PruneLedger(ctx, spy, time.Hour, 10*time.Millisecond, nil); close(done) }()
	waitFor(t, func() (bool, string) { return len(spy.calls()) >= 3, "fewer than 3 prunes" })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PruneLedger did not return after cancellation")
	}
	first := spy.calls()[0]
	if d := start.Add(-time.Hour).Sub(first); d > time.Second || d < -time.Second {
		t.Fatalf("first cutoff %v, want about an hour before %v", first, start)
	}
}

func TestPruneLedgerOnSQLiteForgetsOldIDs(t *testing.T) {
	st := openSQLite(t)
	ctx := context.Background()
	w := stores.Write{Entity: "tasks", Key: "k", Version: 1, Data: []byte(`{}`), EventID: "ev-1"}
	if _, err := st.Apply(ctx, []stores.Write{w}); err != nil {
		t.Fatal(err)
	}
	// Retention zero: every id recorded before now is forgotten, so the
	// same id with a higher version applies instead of being a duplicate.
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { workers.PruneLedger(pctx, st, 0, 20*time.Millisecond, nil); close(done) }()
	waitFor(t, func() (bool, string) {
		w.Version = 2
		res, err := st.Apply(ctx, []stores.Write{w})
		if err != nil {
			return false, err.Error()
		}
		w.Version = 1
		return res.Applied == 1, "the id is still in the ledger"
	})
	cancel()
	<-done
}
