package rethinkdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// Apply applies writes with the version fence, tombstones, IfAbsent inserts
// and the ledger of stores.Writer, in one query per table plus at most two
// ledger queries (look up, record), each split further when it would
// exceed RethinkDB's query limits (see queryLimits). Every write is
// hard-durable. A store opened as a source fails with ErrReadOnly.
//
// Before anything is sent it rejects, with a *stores.RejectError, what
// stores.Validate refuses and what RethinkDB cannot hold or give back
// unchanged: keys over 127 bytes, text that is not valid UTF-8, numbers a
// double cannot hold exactly (integers beyond ±2^53), versions above 2^53,
// objects with a "$reql_type$" field, data that uses a bookkeeping field
// name, a key or client field that contradicts the write, and the ledger's
// entity name.
//
// RethinkDB has no multi-table transactions: each document write is atomic
// and fenced, but a call that fails part-way may have applied some tables'
// documents. Retrying it is safe, because the fence turns the repeated
// writes into no-ops. Ledger ids, those of superseded writes included, are
// recorded after the documents, so a crash in between causes a redelivery
// that the fence absorbs. Errors from a lost connection or an unavailable
// replica match stores.ErrTransient.
func (s *Store) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	if len(writes) == 0 {
		return stores.ApplyResult{}, nil
	}
	if s.cfg.Role == stores.RoleSource {
		return stores.ApplyResult{}, fmt.Errorf("apply %d writes: %w", len(writes), ErrReadOnly)
	}
	if err := stores.Validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	for i, w := range writes {
		if w.Entity == ledgerTable {
			return stores.ApplyResult{}, stores.Reject(i, w, "entity name %q is reserved for the ledger table", ledgerTable)
		}
		doc, reason := s.cfg.writeDocument(w)
		if reason != "" {
			return stores.ApplyResult{}, stores.Reject(i, w, "%s", reason)
		}
		if size := encodedSize(doc); size > s.limits.bytes {
			return stores.ApplyResult{}, stores.Reject(i, w, "document is %d bytes encoded; one RethinkDB write query is kept below %d bytes (the server refuses queries of 128 MiB)", size, s.limits.bytes)
		}
	}
	plan := stores.NewPlan(writes)
	if len(plan.EventIDs) > 0 {
		seen, err := s.seenEventIDs(ctx, plan.EventIDs)
		if err != nil {
			return stores.ApplyResult{}, err
		}
		plan.DropEventIDs(seen)
	}
	applied := 0
	for _, entity := range plan.Entities {
		ws := plan.Writes[entity]
		if len(ws) == 0 {
			continue
		}
		if err := s.ensureTable(ctx, entity, s.cfg.KeyField); err != nil {
			return stores.ApplyResult{}, err
		}
		for _, items := range s.applyBatches(ws) {
			var res r.WriteResponse
			err := s.retryAfterDuplicates(ctx, entity, func() (err error) {
				res, err = s.write(ctx, s.applyTerm(entity, items))
				return err
			})
			if err != nil {
				// The table may have been dropped or moved: check it again next time.
				s.tables.forget(entity)
				return stores.ApplyResult{}, classify(fmt.Errorf("apply %d writes to %s: %w", len(items), entity, err))
			}
			applied += res.Inserted + res.Replaced
		}
	}
	// The ids of superseded writes are recorded in the same insert, not
	// looked up or counted (the plan counted them as skipped): a late retry
	// of one is then a duplicate rather than a write of older state.
	ids := append(plan.EventIDs[:len(plan.EventIDs):len(plan.EventIDs)], plan.SupersededEventIDs...)
	for _, part := range s.split(len(ids), func(i int) int { return len(ids[i]) + ledgerRowOverhead }) {
		record := func() error {
			_, err := s.write(ctx, s.recordTerm(ids[part[0]:part[1]]))
			return err
		}
		if err := s.retryAfterDuplicates(ctx, ledgerTable, record); err != nil {
			return stores.ApplyResult{}, classify(fmt.Errorf("record %d event ids in the ledger: %w", len(ids), err))
		}
	}
	res := plan.Result
	res.Applied += applied
	res.Skipped += plan.Size() - applied
	return res, nil
}

// durability is set on every write, whatever the table's default: with
// "soft", a crash could lose a document the ledger says was applied, or
// the reverse.
const durability = "hard"

// queryLimits bound one write query. RethinkDB refuses a query of 128 MiB
// or more and an array of more than 100,000 elements (array_limit), so
// Apply splits its writes into queries below both.
type queryLimits struct {
	bytes, rows int
}

var defaultLimits = queryLimits{bytes: 64 << 20, rows: 50_000}

// ledgerRowOverhead is the encoded size of a ledger row besides its id.
const ledgerRowOverhead = 160

// split cuts n items, of which size(i) is the encoded size of item i, into
// consecutive [from, to) parts of at most s.limits.rows items and, unless a
// part holds a single item, s.limits.bytes bytes.
func (s *Store) split(n int, size func(i int) int) [][2]int {
	var parts [][2]int
	from, bytes := 0, 0
	for i := 0; i < n; i++ {
		b := size(i)
		if i > from && (i-from >= s.limits.rows || bytes+b > s.limits.bytes) {
			parts = append(parts, [2]int{from, i})
			from, bytes = i, 0
		}
		bytes += b
	}
	if n > from {
		parts = append(parts, [2]int{from, n})
	}
	return parts
}

// applyBatches pairs each surviving write's document with its IfAbsent
// flag, and cuts them into queries within the limits. The documents were
// checked in Apply, so building them cannot fail here.
func (s *Store) applyBatches(ws []stores.Write) [][]any {
	items := make([]any, 0, len(ws))
	sizes := make([]int, 0, len(ws))
	for _, w := range ws {
		doc, _ := s.cfg.writeDocument(w)
		items = append(items, map[string]any{"doc": doc, "absent": w.IfAbsent})
		sizes = append(sizes, encodedSize(doc)+64)
	}
	var out [][]any
	for _, part := range s.split(len(items), func(i int) int { return sizes[i] }) {
		out = append(out, items[part[0]:part[1]])
	}
	return out
}

// encodedSize is the length of v encoded as JSON, as the driver sends it.
func encodedSize(v any) int {
	var n byteCounter
	_ = json.NewEncoder(&n).Encode(v) // a document built by writeDocument always encodes
	return int(n)
}

type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// applyTerm is the fenced write of one table's documents in one query:
//
//	r.expr(items).forEach(item =>
//	  table.get(item.doc.<key>).replace(old =>
//	    r.branch(old.eq(null).or(item.absent.not().and(
//	      old.<version>.default(0).lt(item.doc.<version>))),
//	      item.doc.merge({<updated>: r.now()}), old),
//	    {durability: "hard"}))
//
// A missing document is always written; an existing one (tombstones
// included) only by a higher version and never by an IfAbsent write. A
// document without a version field counts as version 0. The write time is
// the server's clock, the same for the whole query.
func (s *Store) applyTerm(entity string, items []any) r.Term {
	table := r.DB(s.cfg.Database).Table(entity)
	key, version, updated := s.cfg.KeyField, s.cfg.VersionField, s.cfg.UpdatedField
	return r.Expr(items).ForEach(func(item r.Term) r.Term {
		doc := item.Field("doc")
		return table.Get(doc.Field(key)).Replace(func(old r.Term) r.Term {
			return r.Branch(
				old.Eq(nil).Or(item.Field("absent").Not().And(old.Field(version).Default(0).Lt(doc.Field(version)))),
				doc.Merge(map[string]any{updated: r.Now()}),
				old,
			)
		}, r.ReplaceOpts{Durability: durability})
	})
}

// ledgerDigest is the ledger's primary key for an event id: "sha256:" and
// the hex SHA-256 of the id, 71 bytes whatever the id's length.
func ledgerDigest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// seenEventIDs returns which of ids the ledger already holds, in one query
// per part within the limits. Rows recorded before the ledger was keyed by
// digest are keyed by the id itself and have no event_id field; they are
// looked up too, so an upgrade forgets no id:
//
//	ledger.getAll(digest(id1), ..., id1, ...).pluck("id", "event_id")
func (s *Store) seenEventIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	seen := make(map[string]bool)
	for _, part := range s.split(len(ids), func(i int) int { return 2*len(ids[i]) + ledgerRowOverhead }) {
		group := ids[part[0]:part[1]]
		keys := make([]any, 0, 2*len(group))
		for _, id := range group {
			keys = append(keys, ledgerDigest(id))
		}
		for _, id := range group {
			if len(id) <= maxKeyBytes {
				keys = append(keys, id)
			}
		}
		term := r.DB(s.cfg.Database).Table(ledgerTable).GetAll(keys...).Pluck(ledgerKey, ledgerIDField)
		var found []any
		err := s.retryAfterDuplicates(ctx, ledgerTable, func() (err error) {
			found, err = s.readAll(ctx, term)
			return err
		})
		if err != nil {
			return nil, classify(fmt.Errorf("look up %d event ids in the ledger: %w", len(ids), err))
		}
		for _, v := range found {
			row, _ := v.(map[string]any)
			if id, ok := row[ledgerIDField].(string); ok {
				seen[id] = true
			} else if id, ok := row[ledgerKey].(string); ok {
				seen[id] = true
			}
		}
	}
	return seen, nil
}

// recordTerm inserts the ledger ids, stamped with the server's clock; an id
// already there (recorded by a concurrent worker, or a superseded write's id
// recorded by an earlier call) is replaced, not an error.
func (s *Store) recordTerm(ids []string) r.Term {
	rows := make([]any, len(ids))
	for i, id := range ids {
		rows[i] = map[string]any{ledgerKey: ledgerDigest(id), ledgerIDField: id, ledgerTimeField: r.Now()}
	}
	return r.DB(s.cfg.Database).Table(ledgerTable).Insert(rows, r.InsertOpts{Conflict: "replace", Durability: durability})
}
