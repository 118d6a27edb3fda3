package flags

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// Mismatch kinds.
const (
	MismatchDiffers       = "differs"
	MismatchMissingTarget = "missing-in-target"
	MismatchMissingLegacy = "missing-in-legacy"
)

// maxMismatchKeysPerRead bounds the keys one list comparison samples and
// repairs, so one bad page cannot flood the sample or the repair.
const maxMismatchKeysPerRead = 10

// MismatchSample is one mismatching key seen by a shadow read.
type MismatchSample struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	Entity string    `json:"entity"`
	Key    string    `json:"key"`
	Stage  Stage     `json:"stage"`
	// Kind is differs, missing-in-target or missing-in-legacy.
	Kind string `json:"kind"`
}

type mismatch struct{ entity, key, kind string }

// shadowRead is one secondary read running in the background; it compares
// once the primary's outcome arrives.
type shadowRead[T any] struct {
	primary chan T
}

// startShadow starts the secondary read in a background slot, or counts a
// dropped shadow read when every slot is taken. It returns nil then.
func startShadow[T any](r *Router, client string, st Stage, read func(context.Context) T, compare func(p, s T) (ShadowResult, []mismatch)) *shadowRead[T] {
	select {
	case r.slots <- struct{}{}:
	default:
		r.recordShadow(client, st, ShadowDropped)
		return nil
	}
	if !r.track() {
		<-r.slots
		return nil
	}
	sr := &shadowRead[T]{primary: make(chan T, 1)}
	go func() {
		defer r.wg.Done()
		defer func() { <-r.slots }()
		ctx, cancel := context.WithTimeout(r.base, r.budget)
		secondary := read(ctx)
		cancel()
		var primary T
		select {
		case primary = <-sr.primary:
		case <-r.base.Done():
			return
		}
		res, keys := compare(primary, secondary)
		r.recordShadow(client, st, res)
		if res != ShadowMismatch {
			return
		}
		entity := r.sampleMismatches(client, st, keys)
		if r.repair != nil && len(keys) > 0 {
			r.repairKeys(entity, keys)
		}
	}()
	return sr
}

// primaryDone hands the primary's outcome to the comparison; it never
// blocks.
func (sr *shadowRead[T]) primaryDone(v T) { sr.primary <- v }

func (r *Router) recordShadow(client string, st Stage, res ShadowResult) {
	r.metrics.shadow.WithLabelValues(string(res)).Inc()
	for _, obs := range r.observers {
		obs.ObserveRead(client, ReadObservation{Stage: st, Shadow: res})
	}
}

// sampleMismatches keeps the keys in the ring and returns their entity
// (one read names one entity).
func (r *Router) sampleMismatches(client string, st Stage, keys []mismatch) string {
	now := time.Now().UTC()
	var entity string
	for _, m := range keys {
		entity = m.entity
		r.samples.add(MismatchSample{Time: now, Client: client, Entity: m.entity, Key: m.key, Stage: st, Kind: m.kind})
	}
	return entity
}

func (r *Router) repairKeys(entity string, ms []mismatch) {
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.key
	}
	ctx, cancel := context.WithTimeout(r.base, r.repairTimeout)
	defer cancel()
	if err := r.repair(ctx, entity, keys); err != nil {
		r.metrics.repairs.WithLabelValues("error").Inc()
		r.log.Warn("repair after shadow mismatch failed", "entity", entity, "keys", len(keys), "err", err)
		return
	}
	r.metrics.repairs.WithLabelValues("ok").Inc()
}

type getOutcome struct {
	rec stores.Record
	err error
}

type listOutcome struct {
	recs []stores.Record
	err  error
}

// normalized is a read's answer reduced to what the comparison cares about:
// a tombstone and a missing key are both absent; documents compare in
// canonical form.
func normalize(rec stores.Record) ([]byte, bool, error) {
	if rec.Deleted {
		return nil, false, nil
	}
	doc, err := stores.Canonical(rec.Data)
	if err != nil {
		return nil, false, fmt.Errorf("key %q: %w", rec.Key, err)
	}
	return doc, true, nil
}

func absentErr(err error) bool {
	return errors.Is(err, stores.ErrNotFound) || errors.Is(err, stores.ErrNoEntity)
}

func missingKind(primarySide StoreSide, primaryHas bool) string {
	// The side that lacks the key names the kind.
	lacking := StoreTarget
	if (primarySide == StoreTarget) == primaryHas {
		lacking = StoreLegacy
	}
	if lacking == StoreTarget {
		return MismatchMissingTarget
	}
	return MismatchMissingLegacy
}

func compareGet(entity, key string, p, s getOutcome, served StoreSide) (ShadowResult, []mismatch) {
	var pDoc, sDoc []byte
	var pHas, sHas bool
	var err error
	switch {
	case absentErr(p.err):
	case p.err != nil:
		return ShadowError, nil
	default:
		if pDoc, pHas, err = normalize(p.rec); err != nil {
			return ShadowError, nil
		}
	}
	switch {
	case absentErr(s.err):
	case s.err != nil:
		return ShadowError, nil
	default:
		if sDoc, sHas, err = normalize(s.rec); err != nil {
			return ShadowError, nil
		}
	}
	switch {
	case !pHas && !sHas:
		return ShadowMatch, nil
	case pHas != sHas:
		return ShadowMismatch, []mismatch{{entity, key, missingKind(served, pHas)}}
	case !bytes.Equal(pDoc, sDoc):
		return ShadowMismatch, []mismatch{{entity, key, MismatchDiffers}}
	}
	return ShadowMatch, nil
}

// compareList compares two pages read with the same range. Tombstones can
// make the pages cover different key spans, so only keys up to the smaller
// last key of a full page are compared.
func compareList(entity string, limit int, p, s listOutcome, served StoreSide) (ShadowResult, []mismatch) {
	if absentErr(p.err) {
		p.err = nil
	}
	if absentErr(s.err) {
		s.err = nil
	}
	if p.err != nil || s.err != nil {
		return ShadowError, nil
	}
	bound := ""
	for _, page := range [][]stores.Record{p.recs, s.recs} {
		if len(page) == limit && limit > 0 {
			if last := page[len(page)-1].Key; bound == "" || last < bound {
				bound = last
			}
		}
	}
	within := func(k string) bool { return bound == "" || k <= bound }
	pDocs, err := liveDocs(p.recs, within)
	if err != nil {
		return ShadowError, nil
	}
	sDocs, err := liveDocs(s.recs, within)
	if err != nil {
		return ShadowError, nil
	}
	var out []mismatch
	add := func(key, kind string) {
		if len(out) < maxMismatchKeysPerRead {
			out = append(out, mismatch{entity, key, kind})
		}
	}
	mismatched := false
	for k, pd := range pDocs {
		sd, ok := sDocs[k]
		switch {
		case !ok:
			mismatched = true
			add(k, missingKind(served, true))
		case !bytes.Equal(pd, sd):
			mismatched = true
			add(k, MismatchDiffers)
		}
	}
	for k := range sDocs {
		if _, ok := pDocs[k]; !ok {
			mismatched = true
			add(k, missingKind(served, false))
		}
	}
	if mismatched {
		return ShadowMismatch, out
	}
	return ShadowMatch, nil
}

func liveDocs(recs []stores.Record, within func(string) bool) (map[string][]byte, error) {
	out := make(map[string][]byte, len(recs))
	for _, rec := range recs {
		if !within(rec.Key) {
			continue
		}
		doc, ok, err := normalize(rec)
		if err != nil {
			return nil, err
		}
		if ok {
			out[rec.Key] = doc
		}
	}
	return out, nil
}

// mismatchRing keeps the last n samples.
type mismatchRing struct {
	mu   sync.Mutex
	buf  []MismatchSample
	next int
	full bool
}

func newMismatchRing(n int) *mismatchRing { return &mismatchRing{buf: make([]MismatchSample, n)} }

func (m *mismatchRing) add(s MismatchSample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf[m.next] = s
	m.next = (m.next + 1) % len(m.buf)
	if m.next == 0 {
		m.full = true
	}
}

func (m *mismatchRing) list() []MismatchSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.next
	if m.full {
		n = len(m.buf)
	}
	out := make([]MismatchSample, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, m.buf[(m.next-i+len(m.buf))%len(m.buf)])
	}
	return out
}
