package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"sort"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// Get reads the document of key by primary key and maps it (mapping.go).
// It fails with an error matching stores.ErrNotFound when there is no
// document, stores.ErrNoEntity when the table does not exist (or entity is
// not a valid entity name), and a classified driver error otherwise.
func (s *Store) Get(ctx context.Context, entity, key string) (stores.Record, error) {
	if !events.ValidEntity(entity) {
		return stores.Record{}, fmt.Errorf("get %q: %w: not a valid entity name", entity, stores.ErrNoEntity)
	}
	if len(key) > maxKeyBytes {
		// RethinkDB refuses such a key outright; no document can have it.
		return stores.Record{}, fmt.Errorf("get %s/%s: %w (keys are at most %d bytes)", entity, key, stores.ErrNotFound, maxKeyBytes)
	}
	var doc any
	err := s.readOne(ctx, r.DB(s.cfg.Database).Table(entity).Get(key), &doc)
	switch {
	case errors.Is(err, r.ErrEmptyResult):
		return stores.Record{}, fmt.Errorf("get %s/%s: %w", entity, key, stores.ErrNotFound)
	case err != nil:
		return stores.Record{}, s.readError(ctx, "get "+entity+"/"+key, entity, err)
	case doc == nil:
		return stores.Record{}, fmt.Errorf("get %s/%s: %w", entity, key, stores.ErrNotFound)
	}
	rec, err := s.cfg.readRecord(doc)
	if err != nil {
		return stores.Record{}, fmt.Errorf("get %s/%s: %w", entity, key, err)
	}
	return rec, nil
}

// readError tells a missing table (stores.ErrNoEntity) from other failures
// of a read: RethinkDB reports both as OP_FAILED, so the table list decides.
func (s *Store) readError(ctx context.Context, what, entity string, err error) error {
	if isOpFailed(err) {
		var exists bool
		if listErr := s.readOne(ctx, r.DB(s.cfg.Database).TableList().Contains(entity), &exists); listErr == nil && !exists {
			return fmt.Errorf("%s: %w", what, stores.ErrNoEntity)
		}
	}
	return classify(fmt.Errorf("%s: %w", what, err))
}

// rangeTerm selects up to limit documents after after (exclusive) through
// through (inclusive, "" for no bound) in primary-key order:
//
//	table.between(after, through|r.maxval, {index: <key>, left_bound: "open", right_bound: "closed"})
//	     .orderBy({index: <key>}) [.filter(client)] [.filter(live)] .limit(limit)
//
// Only string keys lie in these bounds; RethinkDB orders strings by code
// point, which is the byte order of UTF-8 that every store uses.
func (s *Store) rangeTerm(entity, after string, rg stores.Range, liveOnly bool, limit int) r.Term {
	var upper any = r.MaxVal
	if rg.Through != "" {
		upper = rg.Through
	}
	term := r.DB(s.cfg.Database).Table(entity).
		Between(after, upper, r.BetweenOpts{Index: s.cfg.KeyField, LeftBound: "open", RightBound: "closed"}).
		OrderBy(r.OrderByOpts{Index: s.cfg.KeyField})
	if rg.Client != "" {
		client, field := rg.Client, s.cfg.ClientField
		term = term.Filter(func(doc r.Term) r.Term { return doc.Field(field).Default(nil).Eq(client) })
	}
	if liveOnly {
		field := s.cfg.DeletedField
		term = term.Filter(func(doc r.Term) r.Term { return doc.Field(field).Default(false).Ne(true) })
	}
	return term.Limit(limit)
}

// scanChunks reads a range in chunks of the configured size and hands each
// record to visit, stopping after rg.Limit records (0: no limit).
//
// String keys are all that a range holds, and RethinkDB sorts every other
// key type before the strings, so a non-string key would never be read. The
// first chunk's query therefore also asks for one such key:
//
//	{docs: <rangeTerm>.coerceTo("array"),
//	 odd: table.between(r.minval, "", {index: <key>}).limit(1)(<key>).coerceTo("array")}
//
// and when there is one, the scan fails with a *NonStringKeysError rather
// than skip those documents silently.
func (s *Store) scanChunks(ctx context.Context, entity string, rg stores.Range, liveOnly bool, visit func(stores.Record) error) error {
	if !events.ValidEntity(entity) {
		return fmt.Errorf("%w: %q is not a valid entity name", stores.ErrNoEntity, entity)
	}
	after, remaining := rg.After, rg.Limit
	for first := true; ; first = false {
		chunk := s.cfg.ChunkSize
		if rg.Limit > 0 {
			chunk = min(chunk, remaining)
		}
		var docs []any
		if first {
			var res struct {
				Docs []any `rethinkdb:"docs"`
				Odd  []any `rethinkdb:"odd"`
			}
			term := r.Expr(map[string]any{
				"docs": s.rangeTerm(entity, after, rg, liveOnly, chunk).CoerceTo("array"),
				"odd":  s.nonStringKeys(entity).Limit(1).Field(s.cfg.KeyField).CoerceTo("array"),
			})
			if err := s.readOne(ctx, term, &res); err != nil {
				return err
			}
			if len(res.Odd) > 0 {
				return s.nonStringKeysError(ctx, entity, res.Odd[0])
			}
			docs = res.Docs
		} else {
			var err error
			if docs, err = s.readAll(ctx, s.rangeTerm(entity, after, rg, liveOnly, chunk)); err != nil {
				return err
			}
		}
		for _, doc := range docs {
			rec, err := s.cfg.readRecord(doc)
			if err != nil {
				return err
			}
			if err := visit(rec); err != nil {
				return err
			}
			after = rec.Key
		}
		remaining -= len(docs)
		if len(docs) < chunk || (rg.Limit > 0 && remaining <= 0) {
			return nil
		}
	}
}

// nonStringKeys selects the documents whose primary key is not a string:
// those that sort before the empty string.
func (s *Store) nonStringKeys(entity string) r.Term {
	return r.DB(s.cfg.Database).Table(entity).
		Between(r.MinVal, "", r.BetweenOpts{Index: s.cfg.KeyField})
}

// nonStringKeysError counts the documents of entity with a non-string key.
func (s *Store) nonStringKeysError(ctx context.Context, entity string, sample any) error {
	var count int64
	if err := s.readOne(ctx, s.nonStringKeys(entity).Count(), &count); err != nil {
		return classify(fmt.Errorf("count the non-string keys of %s: %w", entity, err))
	}
	return &NonStringKeysError{Database: s.cfg.Database, Table: entity, Count: count, SampleKey: sample}
}

// Scan returns the documents of a range in key order, tombstones included,
// reading them in chunks. An entity without a table scans empty.
func (s *Store) Scan(ctx context.Context, entity string, rg stores.Range) ([]stores.Record, error) {
	var out []stores.Record
	err := s.scanChunks(ctx, entity, rg, false, func(rec stores.Record) error {
		out = append(out, rec)
		return nil
	})
	if err != nil {
		if err := s.readError(ctx, "scan "+entity, entity, err); errors.Is(err, stores.ErrNoEntity) {
			return nil, nil
		} else {
			return nil, err
		}
	}
	return out, nil
}

// Checksum streams the live documents of a range, chunk by chunk, into a
// stores.Summer. An entity without a table sums to the zero Checksum.
func (s *Store) Checksum(ctx context.Context, entity string, rg stores.Range) (stores.Checksum, error) {
	var sum stores.Summer
	err := s.scanChunks(ctx, entity, rg, true, func(rec stores.Record) error {
		return sum.Add(rec.Key, rec.Client, rec.Data)
	})
	if err != nil {
		if err := s.readError(ctx, "checksum "+entity, entity, err); errors.Is(err, stores.ErrNoEntity) {
			var empty stores.Summer
			return empty.Checksum(), nil
		} else {
			return stores.Checksum{}, err
		}
	}
	return sum.Checksum(), nil
}

// Entities lists the database's tables that are valid entity names, sorted,
// leaving out the ledger.
func (s *Store) Entities(ctx context.Context) ([]string, error) {
	names, err := s.readAll(ctx, r.DB(s.cfg.Database).TableList())
	if err != nil {
		return nil, classify(fmt.Errorf("list entities: %w", err))
	}
	var out []string
	for _, v := range names {
		if name, ok := v.(string); ok && name != ledgerTable && events.ValidEntity(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}
