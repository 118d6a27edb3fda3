package migrator

import (
	"bytes"
	"context"

	"github.com/switchyard/switchyard/stores"
)

// FindingKind classifies one difference between the stores.
type FindingKind string

// The kinds of finding.
const (
	// KindMissing: the source has a live row, the target has nothing.
	KindMissing FindingKind = "missing"
	// KindExtra: the target has a live row, the source has nothing.
	KindExtra FindingKind = "extra"
	// KindDifferent: both are live with different documents or clients.
	KindDifferent FindingKind = "different"
	// KindResurrected: a tombstone in one store, a live row in the other.
	KindResurrected FindingKind = "resurrected"
)

// FindingKinds lists the kinds in a stable order.
var FindingKinds = []FindingKind{KindMissing, KindExtra, KindDifferent, KindResurrected}

// RowState is what one store holds for a key in a finding.
type RowState struct {
	Version int64  `json:"version"`
	Client  string `json:"client,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
}

// Finding is one key on which the stores disagree.
type Finding struct {
	Entity string      `json:"entity"`
	Key    string      `json:"key"`
	Client string      `json:"client,omitempty"`
	Kind   FindingKind `json:"kind"`
	// Source and Target are nil where the store has neither row nor
	// tombstone.
	Source *RowState `json:"source,omitempty"`
	Target *RowState `json:"target,omitempty"`
}

func rowState(r *stores.Record) *RowState {
	if r == nil {
		return nil
	}
	return &RowState{Version: r.Version, Client: r.Client, Deleted: r.Deleted}
}

// compareRecords classifies a key from what each store holds (nil: no row
// and no tombstone). ok is true when the stores agree: a tombstone and no
// row agree, since neither serves the record.
func compareRecords(entity string, src, tgt *stores.Record) (Finding, bool, error) {
	srcLive := src != nil && !src.Deleted
	tgtLive := tgt != nil && !tgt.Deleted
	f := Finding{Entity: entity, Source: rowState(src), Target: rowState(tgt)}
	// The finding belongs to the client of the live row (the source's when
	// both are live), so per-client results name the client that would see it.
	switch {
	case srcLive:
		f.Key, f.Client = src.Key, src.Client
	case tgtLive:
		f.Key, f.Client = tgt.Key, tgt.Client
	case src != nil:
		f.Key, f.Client = src.Key, src.Client
	case tgt != nil:
		f.Key, f.Client = tgt.Key, tgt.Client
	}
	switch {
	case !srcLive && !tgtLive:
		return f, true, nil
	case srcLive && tgt == nil:
		f.Kind = KindMissing
	case tgtLive && src == nil:
		f.Kind = KindExtra
	case srcLive != tgtLive:
		f.Kind = KindResurrected
	default:
		same, err := sameContent(src, tgt)
		if err != nil || same {
			return f, same, err
		}
		f.Kind = KindDifferent
	}
	return f, false, nil
}

// sameContent compares two live rows as the checksum does: client and
// canonical document.
func sameContent(a, b *stores.Record) (bool, error) {
	if a.Client != b.Client {
		return false, nil
	}
	if bytes.Equal(a.Data, b.Data) {
		return true, nil
	}
	ca, err := stores.Canonical(a.Data)
	if err != nil {
		return false, err
	}
	cb, err := stores.Canonical(b.Data)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ca, cb), nil
}

// rangeCursor pages through one store's rows of a range.
type rangeCursor struct {
	reader stores.Reader
	entity string
	rng    stores.Range
	page   int
	buf    []stores.Record
	pos    int
	done   bool
}

func newRangeCursor(r stores.Reader, entity string, rng stores.Range, page int) *rangeCursor {
	rng.Limit = page
	return &rangeCursor{reader: r, entity: entity, rng: rng, page: page}
}

// peek returns the next row, or nil at the end of the range.
func (c *rangeCursor) peek(ctx context.Context) (*stores.Record, error) {
	if c.pos < len(c.buf) {
		return &c.buf[c.pos], nil
	}
	if c.done {
		return nil, nil
	}
	recs, err := c.reader.Scan(ctx, c.entity, c.rng)
	if err != nil {
		return nil, err
	}
	c.buf, c.pos = recs, 0
	if len(recs) < c.page {
		c.done = true
	}
	if len(recs) == 0 {
		return nil, nil
	}
	c.rng.After = recs[len(recs)-1].Key
	return &c.buf[0], nil
}

func (c *rangeCursor) advance() { c.pos++ }

// diffRange merge-joins the rows of a range in both stores and calls emit
// for every key on which they disagree (with both rows as found).
func diffRange(ctx context.Context, source, target stores.Reader, entity string, rng stores.Range, page int,
	emit func(f Finding, src, tgt *stores.Record) error) error {
	sc := newRangeCursor(source, entity, rng, page)
	tc := newRangeCursor(target, entity, rng, page)
	for {
		s, err := sc.peek(ctx)
		if err != nil {
			return err
		}
		t, err := tc.peek(ctx)
		if err != nil {
			return err
		}
		if s == nil && t == nil {
			return nil
		}
		var src, tgt *stores.Record
		switch {
		case t == nil || (s != nil && s.Key < t.Key):
			src = s
			sc.advance()
		case s == nil || t.Key < s.Key:
			tgt = t
			tc.advance()
		default:
			src, tgt = s, t
			sc.advance()
			tc.advance()
		}
		f, ok, err := compareRecords(entity, src, tgt)
		if err != nil {
			return err
		}
		if !ok {
			// Copy the rows: the cursors reuse their pages.
			if err := emit(f, cloneRecord(src), cloneRecord(tgt)); err != nil {
				return err
			}
		}
	}
}

func cloneRecord(r *stores.Record) *stores.Record {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}
