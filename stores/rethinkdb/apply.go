package rethinkdb

import (
	"context"
	"fmt"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// Apply applies writes with the version fence, tombstones, IfAbsent inserts
// and the ledger of stores.Writer, in one query per table plus at most two
// ledger queries (look up, record).
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
	if err := stores.Validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	for i, w := range writes {
		if w.Entity == ledgerTable {
			return stores.ApplyResult{}, stores.Reject(i, w, "entity name %q is reserved for the ledger table", ledgerTable)
		}
		if _, reason := s.cfg.writeDocument(w); reason != "" {
			return stores.ApplyResult{}, stores.Reject(i, w, "%s", reason)
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
		res, err := s.write(ctx, s.applyTerm(entity, s.applyItems(ws)))
		if err != nil {
			// The table may have been dropped or moved: check it again next time.
			s.tables.forget(entity)
			return stores.ApplyResult{}, classify(fmt.Errorf("apply %d writes to %s: %w", len(ws), entity, err))
		}
		applied += res.Inserted + res.Replaced
	}
	// The ids of superseded writes are recorded in the same insert, not
	// looked up or counted (the plan counted them as skipped): a late retry
	// of one is then a duplicate rather than a write of older state.
	if ids := append(plan.EventIDs[:len(plan.EventIDs):len(plan.EventIDs)], plan.SupersededEventIDs...); len(ids) > 0 {
		if _, err := s.write(ctx, s.recordTerm(ids)); err != nil {
			return stores.ApplyResult{}, classify(fmt.Errorf("record %d event ids in the ledger: %w", len(ids), err))
		}
	}
	res := plan.Result
	res.Applied += applied
	res.Skipped += plan.Size() - applied
	return res, nil
}

// applyItems pairs each surviving write's document with its IfAbsent flag.
// The documents were checked in Apply, so building them cannot fail here.
func (s *Store) applyItems(ws []stores.Write) []any {
	items := make([]any, 0, len(ws))
	for _, w := range ws {
		doc, _ := s.cfg.writeDocument(w)
		items = append(items, map[string]any{"doc": doc, "absent": w.IfAbsent})
	}
	return items
}

// applyTerm is the fenced write of one table's documents in one query:
//
//	r.expr(items).forEach(item =>
//	  table.get(item.doc.<key>).replace(old =>
//	    r.branch(old.eq(null).or(item.absent.not().and(
//	      old.<version>.default(0).lt(item.doc.<version>))), item.doc, old)))
//
// A missing document is always written; an existing one (tombstones
// included) only by a higher version and never by an IfAbsent write. A
// document without a version field counts as version 0.
func (s *Store) applyTerm(entity string, items []any) r.Term {
	table := r.DB(s.cfg.Database).Table(entity)
	key, version := s.cfg.KeyField, s.cfg.VersionField
	return r.Expr(items).ForEach(func(item r.Term) r.Term {
		doc := item.Field("doc")
		return table.Get(doc.Field(key)).Replace(func(old r.Term) r.Term {
			return r.Branch(
				old.Eq(nil).Or(item.Field("absent").Not().And(old.Field(version).Default(0).Lt(doc.Field(version)))),
				doc,
				old,
			)
		})
	})
}

// seenEventIDs returns which of ids the ledger already holds, in one query.
func (s *Store) seenEventIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	keys := make([]any, len(ids))
	for i, id := range ids {
		keys[i] = id
	}
	term := r.DB(s.cfg.Database).Table(ledgerTable).GetAll(keys...).Field(ledgerKey)
	found, err := s.readAll(ctx, term)
	if err != nil {
		return nil, classify(fmt.Errorf("look up %d event ids in the ledger: %w", len(ids), err))
	}
	seen := make(map[string]bool, len(found))
	for _, v := range found {
		if id, ok := v.(string); ok {
			seen[id] = true
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
		rows[i] = map[string]any{ledgerKey: id, ledgerTimeField: r.Now()}
	}
	return r.DB(s.cfg.Database).Table(ledgerTable).Insert(rows, r.InsertOpts{Conflict: "replace"})
}
