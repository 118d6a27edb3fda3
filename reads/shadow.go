package reads

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/stores"
)

// maxMismatchKeysPerRead bounds the keys one list comparison samples and
// repairs, so one bad page cannot flood the sample or the repair.
const maxMismatchKeysPerRead = 10

type mismatch struct{ entity, key, kind string }

// shadowTask is what a shadow read's background work needs besides the
// two outcomes.
type shadowTask struct {
	client string
	stage  flags.Stage
	entity string
	// owner, when set, is the client whose rows the read covers: a re-read
	// row of another client counts as absent, as it would on a page.
	owner              string
	primary, secondary stores.Reader
	served, other      flags.StoreSide
}

// shadowRead is one secondary read running in the background; it compares
// once the primary's outcome arrives.
type shadowRead[T any] struct {
	primary chan primaryOutcome[T]
}

// primaryOutcome is the primary's answer; abandoned when its caller went
// away first, so there is nothing to compare.
type primaryOutcome[T any] struct {
	v         T
	abandoned bool
}

// startShadow starts the secondary read in a background slot, or counts a
// dropped shadow read when every slot is taken. It returns nil then. The
// secondary read, the comparison and the re-checks of differing keys share
// the router's ShadowBudget, counted from the start.
func startShadow[T any](r *Router, t shadowTask, read func(context.Context) T, compare func(p, s T) (flags.ShadowResult, []keyDiff, []string)) *shadowRead[T] {
	select {
	case r.slots <- struct{}{}:
	default:
		r.recordShadow(&t, flags.ShadowDropped, false, nil)
		return nil
	}
	if !r.track() {
		<-r.slots
		return nil
	}
	sr := &shadowRead[T]{primary: make(chan primaryOutcome[T], 1)}
	go func() {
		defer r.wg.Done()
		defer func() { <-r.slots }()
		deadline := time.Now().Add(r.budget)
		ctx, cancel := context.WithDeadlineCause(r.base, deadline, errStoreBudget)
		defer cancel()
		secondary := read(ctx)
		var primary primaryOutcome[T]
		select {
		case primary = <-sr.primary:
		case <-r.base.Done():
			return
		}
		if primary.abandoned {
			r.recordShadow(&t, flags.ShadowAbandoned, false, nil)
			return
		}
		res, diffs, compared := compare(primary.v, secondary)
		settled := false
		var keys []mismatch
		if len(diffs) > 0 {
			var open bool
			res, settled, keys, open = r.settle(ctx, deadline, &t, diffs)
			if !open {
				return // the router closed meanwhile: nothing to record
			}
		}
		r.recordShadow(&t, res, settled, compared)
		if res != flags.ShadowMismatch {
			return
		}
		r.sampleMismatches(t.client, t.stage, keys)
		if r.repair != nil && len(keys) > 0 {
			r.repairKeys(t.entity, keys)
		}
	}()
	return sr
}

// primaryDone hands the primary's outcome to the comparison; it never
// blocks. An abandoned primary ends the shadow read without a comparison.
func (sr *shadowRead[T]) primaryDone(v T, abandoned bool) {
	sr.primary <- primaryOutcome[T]{v: v, abandoned: abandoned}
}

// recordShadow counts a shadow read's outcome; keys are the keys it
// compared.
func (r *Router) recordShadow(t *shadowTask, res flags.ShadowResult, settled bool, keys []string) {
	r.metrics.shadow.WithLabelValues(string(res)).Inc()
	if settled {
		r.metrics.settled.Inc()
	}
	for _, obs := range r.observers {
		obs.ObserveRead(t.client, flags.ReadObservation{Stage: t.stage, Shadow: res, Settled: settled, Entity: t.entity, Keys: keys})
	}
}

// sampleMismatches keeps the keys in the ring.
func (r *Router) sampleMismatches(client string, st flags.Stage, keys []mismatch) {
	now := time.Now().UTC()
	for _, m := range keys {
		s := flags.MismatchSample{Time: now, Client: client, Entity: m.entity, Key: m.key, Stage: st, Kind: m.kind}
		r.samples.add(s)
		if r.sink != nil {
			r.sink.RecordMismatch(s)
		}
	}
}

// MismatchSink is given the mismatching keys of shadow reads. It must not
// block.
type MismatchSink interface {
	RecordMismatch(flags.MismatchSample)
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

// view is one store's answer for one key, reduced to what the comparison
// cares about: a tombstone and a missing key are both not live; documents
// compare in canonical form. ver is the row's version (a tombstone's too),
// -1 without a row; 0 when the store keeps no versions.
type view struct {
	live bool
	doc  []byte
	ver  int64
}

var noRow = view{ver: -1}

func (v view) equal(o view) bool { return v.live == o.live && (!v.live || bytes.Equal(v.doc, o.doc)) }

// keyDiff is one key whose two answers differ: p from the primary, s from
// the secondary.
type keyDiff struct {
	key  string
	p, s view
	// still is set by settle when the last re-read found neither side
	// changed since the look before.
	still bool
}

// diverged reports a real divergence that no event in flight explains: both
// stores hold the same version of the key with different content. Version 0
// tells nothing (a store without versions).
func (d keyDiff) diverged() bool { return d.p.ver > 0 && d.p.ver == d.s.ver && !d.p.equal(d.s) }

// moved reports whether either store changed the key between prev and d.
// Versions tell progress; content tells it too for stores without them.
func (d keyDiff) moved(prev keyDiff) bool {
	return d.p.ver != prev.p.ver || d.s.ver != prev.s.ver || !d.p.equal(prev.p) || !d.s.equal(prev.s)
}

func (d keyDiff) mismatch(entity string, served flags.StoreSide) mismatch {
	if d.p.live != d.s.live {
		return mismatch{entity, d.key, missingKind(served, d.p.live)}
	}
	return mismatch{entity, d.key, flags.MismatchDiffers}
}

// normalize reduces a record to its canonical document; a tombstone is not
// live.
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

func viewOf(rec stores.Record) (view, error) {
	doc, live, err := normalize(rec)
	if err != nil {
		return view{}, err
	}
	return view{live: live, doc: doc, ver: rec.Version}, nil
}

// readView turns a Get's answer into a view; rows of another client than
// owner (when set) count as absent.
func readView(rec stores.Record, err error, owner string) (view, error) {
	switch {
	case absentErr(err):
		return noRow, nil
	case err != nil:
		return view{}, err
	case owner != "" && rec.Client != owner:
		return noRow, nil
	}
	return viewOf(rec)
}

func absentErr(err error) bool {
	return errors.Is(err, stores.ErrNotFound) || errors.Is(err, stores.ErrNoEntity)
}

func missingKind(primarySide flags.StoreSide, primaryHas bool) string {
	// The side that lacks the key names the kind.
	lacking := flags.StoreTarget
	if (primarySide == flags.StoreTarget) == primaryHas {
		lacking = flags.StoreLegacy
	}
	if lacking == flags.StoreTarget {
		return flags.MismatchMissingTarget
	}
	return flags.MismatchMissingLegacy
}

// compareGet compares the two answers of a Get: a match, an error, or one
// differing key to settle. It also returns the keys compared.
func compareGet(key string, p, s getOutcome) (flags.ShadowResult, []keyDiff, []string) {
	pv, err := readView(p.rec, p.err, "")
	if err != nil {
		return flags.ShadowError, nil, nil
	}
	sv, err := readView(s.rec, s.err, "")
	if err != nil {
		return flags.ShadowError, nil, nil
	}
	if pv.equal(sv) {
		return flags.ShadowMatch, nil, []string{key}
	}
	return flags.ShadowMismatch, []keyDiff{{key: key, p: pv, s: sv}}, []string{key}
}

// compareList compares two pages read with the same range: a match, an
// error, or the differing keys to settle, in key order. Tombstones can make
// the pages cover different key spans, so only keys up to the smaller last
// key of a full page are compared. It also returns the keys compared.
func compareList(limit int, p, s listOutcome) (flags.ShadowResult, []keyDiff, []string) {
	if absentErr(p.err) {
		p.err = nil
	}
	if absentErr(s.err) {
		s.err = nil
	}
	if p.err != nil || s.err != nil {
		return flags.ShadowError, nil, nil
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
	pViews, err := pageViews(p.recs, within)
	if err != nil {
		return flags.ShadowError, nil, nil
	}
	sViews, err := pageViews(s.recs, within)
	if err != nil {
		return flags.ShadowError, nil, nil
	}
	var diffs []keyDiff
	compared := make([]string, 0, len(pViews)+len(sViews))
	for k, pv := range pViews {
		compared = append(compared, k)
		sv, ok := sViews[k]
		if !ok {
			sv = noRow
		}
		if !pv.equal(sv) {
			diffs = append(diffs, keyDiff{key: k, p: pv, s: sv})
		}
	}
	for k, sv := range sViews {
		if _, ok := pViews[k]; ok {
			continue
		}
		compared = append(compared, k)
		if !sv.equal(noRow) {
			diffs = append(diffs, keyDiff{key: k, p: noRow, s: sv})
		}
	}
	if len(diffs) == 0 {
		return flags.ShadowMatch, nil, compared
	}
	slices.SortFunc(diffs, func(a, b keyDiff) int { return strings.Compare(a.key, b.key) })
	return flags.ShadowMismatch, diffs, compared
}

// pageViews returns the views of a page's rows within the compared span,
// tombstones included (not live, but with their version).
func pageViews(recs []stores.Record, within func(string) bool) (map[string]view, error) {
	out := make(map[string]view, len(recs))
	for _, rec := range recs {
		if !within(rec.Key) {
			continue
		}
		v, err := viewOf(rec)
		if err != nil {
			return nil, err
		}
		out[rec.Key] = v
	}
	return out, nil
}

// settle decides what the first pass's differing keys are. Most are events
// in flight: one subscription applied a key's newest event and the other
// not yet. A key is
//   - a mismatch at once when both stores hold the same version with
//     different content;
//   - otherwise re-read on both stores after SettleDelay, up to
//     SettleChecks times within the budget: equal content settles it (a
//     match); a diverged re-read is a mismatch at once; any other
//     difference is read again while checks and budget remain. When they
//     run out, a difference that did not move at the last look (neither
//     version nor content changed on either side) is a mismatch, and one
//     still moving is unsettled.
//
// A difference that stands still is read again rather than confirmed at
// the first look because a subscription applies its events in batches: it
// may hold a key's newest event for a batch's linger, its commit and a busy
// machine's scheduling, which can outlast one SettleDelay. The checks
// together give it SettleChecks × SettleDelay.
//
// Keys beyond SettleKeys are not re-read and count as unsettled. The read's
// result is mismatch when any key mismatches, else error when a re-read
// failed, else unsettled when any key is, else match (settled). open is
// false when the router closed meanwhile.
func (r *Router) settle(ctx context.Context, deadline time.Time, t *shadowTask, diffs []keyDiff) (res flags.ShadowResult, settled bool, keys []mismatch, open bool) {
	var confirmed, pending []keyDiff
	unsettled := 0
	for _, d := range diffs {
		switch {
		case d.diverged():
			confirmed = append(confirmed, d)
		case len(pending) < r.settleKeys:
			pending = append(pending, d)
		default:
			unsettled++
		}
	}
	failed := false
	timer := time.NewTimer(r.settleDelay)
	timer.Stop()
	defer timer.Stop()
checks:
	for range r.settleChecks {
		if len(pending) == 0 || failed || time.Until(deadline) <= r.settleDelay {
			break
		}
		timer.Reset(r.settleDelay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			break checks
		}
		var next []keyDiff
		for i, prev := range pending {
			cur, err := r.recheck(ctx, t, prev.key)
			if err != nil {
				failed = true
				next = append(next, pending[i:]...)
				break
			}
			switch {
			case cur.p.equal(cur.s):
				// settled
			case cur.diverged():
				confirmed = append(confirmed, cur)
			default:
				cur.still = !cur.moved(prev)
				next = append(next, cur)
			}
		}
		pending = next
	}
	if r.base.Err() != nil {
		return "", false, nil, false
	}
	for _, d := range pending {
		if d.still {
			confirmed = append(confirmed, d)
		} else {
			unsettled++
		}
	}
	switch {
	case len(confirmed) > 0:
		for _, d := range confirmed[:min(len(confirmed), maxMismatchKeysPerRead)] {
			keys = append(keys, d.mismatch(t.entity, t.served))
		}
		return flags.ShadowMismatch, false, keys, true
	case failed:
		return flags.ShadowError, false, nil, true
	case unsettled > 0:
		return flags.ShadowUnsettled, false, nil, true
	}
	return flags.ShadowMatch, true, nil, true
}

// recheck reads key again from both stores.
func (r *Router) recheck(ctx context.Context, t *shadowTask, key string) (keyDiff, error) {
	d := keyDiff{key: key}
	rec, err := r.timedGet(ctx, t.primary, t.served, t.entity, key)
	if d.p, err = readView(rec, err, t.owner); err != nil {
		return d, err
	}
	rec, err = r.timedGet(ctx, t.secondary, t.other, t.entity, key)
	if d.s, err = readView(rec, err, t.owner); err != nil {
		return d, err
	}
	return d, nil
}

// mismatchRing keeps the last n samples.
type mismatchRing struct {
	mu   sync.Mutex
	buf  []flags.MismatchSample
	next int
	full bool
}

func newMismatchRing(n int) *mismatchRing { return &mismatchRing{buf: make([]flags.MismatchSample, n)} }

func (m *mismatchRing) add(s flags.MismatchSample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf[m.next] = s
	m.next = (m.next + 1) % len(m.buf)
	if m.next == 0 {
		m.full = true
	}
}

func (m *mismatchRing) list() []flags.MismatchSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.next
	if m.full {
		n = len(m.buf)
	}
	out := make([]flags.MismatchSample, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, m.buf[(m.next-i+len(m.buf))%len(m.buf)])
	}
	return out
}
