package workers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/stores"
)

// memStore is an in-memory stores.Writer with the store semantics (version
// fence, tombstones, IfAbsent, event-id ledger) and hooks to inject faults.
type memStore struct {
	mu     sync.Mutex
	rows   map[string]map[string]stores.Record
	ledger map[string]bool
	calls  atomic.Int64

	// entered receives a value each time Apply starts, when set.
	entered chan struct{}
	// gate, when set, blocks Apply until it is closed or ctx ends.
	gate chan struct{}
	// fail, when set, makes Apply return it.
	fail atomic.Pointer[error]
	// panics makes the next Apply calls panic while positive.
	panics atomic.Int64
	// rejectKey makes Apply reject writes of that key.
	rejectKey string
}

func newMemStore() *memStore {
	return &memStore{rows: map[string]map[string]stores.Record{}, ledger: map[string]bool{}}
}

func (s *memStore) setFail(err error) {
	if err == nil {
		s.fail.Store(nil)
		return
	}
	s.fail.Store(&err)
}

func (s *memStore) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
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
	if err := stores.Validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	for i, w := range writes {
		if s.rejectKey != "" && w.Key == s.rejectKey {
			return stores.ApplyResult{}, stores.Reject(i, w, "key %q is refused by this store", w.Key)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	plan := stores.NewPlan(writes)
	seen := map[string]bool{}
	for _, id := range plan.EventIDs {
		if s.ledger[id] {
			seen[id] = true
		}
	}
	plan.DropEventIDs(seen)
	res := plan.Result
	for _, entity := range plan.Entities {
		table := s.rows[entity]
		if table == nil {
			table = map[string]stores.Record{}
			s.rows[entity] = table
		}
		for _, w := range plan.Writes[entity] {
			old, exists := table[w.Key]
			if (w.IfAbsent && exists) || (exists && old.Version >= w.Version) {
				res.Skipped++
				continue
			}
			rec := stores.Record{Key: w.Key, Client: w.Client, Version: w.Version, Deleted: w.Deleted}
			if !w.Deleted {
				rec.Data = append(json.RawMessage(nil), w.Data...)
			}
			table[w.Key] = rec
			res.Applied++
		}
	}
	for _, id := range plan.EventIDs {
		s.ledger[id] = true
	}
	return res, nil
}

func (s *memStore) get(entity, key string) (stores.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[entity][key]
	return r, ok
}

func (s *memStore) count(entity string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows[entity])
}

// snapshot returns entity's rows as "key" -> "version/deleted/data".
func (s *memStore) snapshot(entity string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, r := range s.rows[entity] {
		out[k] = fmt.Sprintf("deleted=%v data=%s", r.Deleted, r.Data)
	}
	return out
}

var errStoreDown = errors.New("connection refused")
