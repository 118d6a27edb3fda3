package workers_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/sqlite"
)

// faultStore is a real SQLite store with hooks that inject the faults a
// test needs: a blocking Apply, failures, panics and rejected writes.
type faultStore struct {
	t     *testing.T
	inner *sqlite.Store
	calls atomic.Int64

	// entered receives a value each time Apply starts, when set.
	entered chan struct{}
	// gate, when set, blocks Apply until it is closed or ctx ends.
	gate chan struct{}
	// fail, when set, makes Apply return it.
	fail atomic.Pointer[error]
	// panics makes the next Apply calls panic while positive.
	panics atomic.Int64
	// rejectKey makes Apply reject writes of that key, as a store does with
	// a write it can never hold.
	rejectKey string
}

func newFaultStore(t *testing.T) *faultStore {
	t.Helper()
	st, err := sqlite.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "target.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &faultStore{t: t, inner: st}
}

func (s *faultStore) setFail(err error) {
	if err == nil {
		s.fail.Store(nil)
		return
	}
	s.fail.Store(&err)
}

func (s *faultStore) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	s.calls.Add(1)
	if s.entered != nil {
		select {
		case s.entered <- struct{}{}:
		default:
		}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return stores.ApplyResult{}, stores.Transient(ctx.Err())
		}
	}
	if s.panics.Add(-1) >= 0 {
		panic("injected panic")
	}
	if p := s.fail.Load(); p != nil {
		return stores.ApplyResult{}, *p
	}
	for i, w := range writes {
		if s.rejectKey != "" && w.Key == s.rejectKey {
			return stores.ApplyResult{}, stores.Reject(i, w, "key %q is refused by this store", w.Key)
		}
	}
	return s.inner.Apply(ctx, writes)
}

func (s *faultStore) get(entity, key string) (stores.Record, bool) {
	s.t.Helper()
	r, err := s.inner.Get(context.Background(), entity, key)
	if errors.Is(err, stores.ErrNotFound) || errors.Is(err, stores.ErrNoEntity) {
		return stores.Record{}, false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return r, true
}

func (s *faultStore) count(entity string) int {
	s.t.Helper()
	recs, err := s.inner.Scan(context.Background(), entity, stores.Range{})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(recs)
}

var errStoreDown = errors.New("connection refused")
