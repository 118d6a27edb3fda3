package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/stores"
)

// ledgerTable records applied event ids, keyed by ledgerKey: a digest of
// the event id (see ledgerDigest), because an id may be 255 bytes and a
// RethinkDB primary key at most 127. ledgerIDField keeps the full id;
// ledgerTimeField (and its index) orders rows by the time they were
// recorded, for PruneLedger.
const (
	ledgerTable     = "switchyard_ledger"
	ledgerKey       = "id"
	ledgerIDField   = "event_id"
	ledgerTimeField = "recorded_at"
)

// tableSet remembers the tables this process has created or checked.
type tableSet struct {
	mu    sync.Mutex
	ready map[string]bool
}

// forget drops a table from the set, so the next use checks it again.
func (t *tableSet) forget(table string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.ready, table)
}

// ensureDatabase creates the database when it is missing. Concurrent
// creators are tolerated: when DBCreate fails, the database list decides,
// and a writer that created it resolves duplicates (duplicates.go).
func (s *Store) ensureDatabase(ctx context.Context) error {
	exists := r.DBList().Contains(s.cfg.Database)
	create := r.DBCreate(s.cfg.Database)
	created, err := s.createIfMissing(ctx, "database "+s.cfg.Database, exists, create)
	if err != nil || !created {
		return err
	}
	_, err = s.resolveDuplicateDatabase(ctx)
	return err
}

// ensureTable creates an entity or ledger table when it is missing, waits
// until it is ready, and checks that its primary key is the configured key
// field. It fails with stores.ErrSchemaMismatch when the primary key
// differs, and with a classified driver error otherwise. Copies of the
// table that concurrent creators left are resolved first (duplicates.go).
func (s *Store) ensureTable(ctx context.Context, table, primaryKey string) error {
	s.tables.mu.Lock()
	defer s.tables.mu.Unlock()
	if s.tables.ready[table] {
		return nil
	}
	db := r.DB(s.cfg.Database)
	exists := db.TableList().Contains(table)
	create := db.TableCreate(table, r.TableCreateOpts{PrimaryKey: primaryKey})
	created, err := s.createIfMissing(ctx, "table "+table, exists, create)
	if err != nil {
		return err
	}
	// Once per table and process, not only after creating it: a copy left
	// renamed by a drain that did not finish holds writes until a drain
	// ends. A writer that cannot read the system tables goes on without.
	// A creator must see its own copies, so it fails without that access.
	if _, err := s.resolveDuplicateTable(ctx, table); err != nil {
		var lookupErr *lookupError
		if created || !errors.As(err, &lookupErr) {
			return err
		}
	}
	if err := s.retryAfterDuplicates(ctx, table, func() error { return s.checkTable(ctx, table, primaryKey) }); err != nil {
		return err
	}
	s.tables.ready[table] = true
	return nil
}

// checkTable waits until table is ready and checks its primary key (and,
// for the ledger, its time index).
func (s *Store) checkTable(ctx context.Context, table, primaryKey string) error {
	db := r.DB(s.cfg.Database)
	if err := s.exec(ctx, db.Table(table).Wait(s.waitOpts())); err != nil {
		return classify(fmt.Errorf("wait for table %s: %w", table, err))
	}
	var key string
	if err := s.readOne(ctx, db.Table(table).Info().Field("primary_key"), &key); err != nil {
		return classify(fmt.Errorf("read primary key of %s: %w", table, err))
	}
	if key != primaryKey {
		return fmt.Errorf("%w: table %s.%s has the primary key %q, want %q (key_field)", stores.ErrSchemaMismatch, s.cfg.Database, table, key, primaryKey)
	}
	if table == ledgerTable {
		return s.ensureLedgerIndex(ctx)
	}
	return nil
}

func (s *Store) ensureLedgerIndex(ctx context.Context) error {
	ledger := r.DB(s.cfg.Database).Table(ledgerTable)
	exists := ledger.IndexList().Contains(ledgerTimeField)
	if _, err := s.createIfMissing(ctx, "index "+ledgerTimeField, exists, ledger.IndexCreate(ledgerTimeField)); err != nil {
		return err
	}
	// index_wait has no timeout of its own: the context bounds it.
	waitCtx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
	defer cancel()
	if err := s.exec(waitCtx, ledger.IndexWait(ledgerTimeField)); err != nil {
		return classify(fmt.Errorf("wait for index %s: %w", ledgerTimeField, err))
	}
	return nil
}

// waitOpts bounds table_wait by the configured wait (in whole seconds, at
// least one), so a writer never waits forever for an unavailable table.
func (s *Store) waitOpts() r.WaitOpts {
	return r.WaitOpts{Timeout: max(1, int(s.cfg.WaitTimeout.Round(time.Second)/time.Second))}
}

// checkSource is the opening of a source: it writes nothing. The database
// must exist, and no sampled document may hold a bookkeeping field left at
// its default name.
func (s *Store) checkSource(ctx context.Context) error {
	var exists bool
	if err := s.readOne(ctx, r.DBList().Contains(s.cfg.Database), &exists); err != nil {
		return classify(fmt.Errorf("look up database %s: %w", s.cfg.Database, err))
	}
	if !exists {
		return fmt.Errorf("%w: %s (a source creates nothing; check the DSN)", ErrNoDatabase, s.cfg.Database)
	}
	collisions, err := s.sampleCollisions(ctx, "", DefaultSampleSize, s.cfg.unnamedBookkeeping())
	if err != nil {
		return err
	}
	if len(collisions) > 0 {
		return collisions[0]
	}
	return nil
}

// sampleCollisions reads the first n documents of each table (or of table
// only, when it is not "") in one query and reports, per table, those that
// hold any of fields:
//
//	db.tableList().filter(name => name.ne(ledger) [and name.eq(table)]).map(name => {
//	  table: name, sampled: db.table(name).limit(n).count(),
//	  hits: db.table(name).limit(n).filter(doc => doc.keys().setIntersection(fields).isEmpty().not())
//	        .map(doc => {key: doc(<key>), fields: doc.keys().setIntersection(fields)})
//	        .coerceTo("array")})
func (s *Store) sampleCollisions(ctx context.Context, table string, n int, fields []string) ([]*CollisionError, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	db := r.DB(s.cfg.Database)
	key := s.cfg.KeyField
	names := make([]any, len(fields))
	for i, f := range fields {
		names[i] = f
	}
	term := db.TableList().Filter(func(name r.Term) r.Term {
		cond := name.Ne(ledgerTable)
		if table != "" {
			cond = cond.And(name.Eq(table))
		}
		return cond
	}).Map(func(name r.Term) r.Term {
		sample := db.Table(name).Limit(n)
		hits := sample.Filter(func(doc r.Term) r.Term {
			return doc.Keys().SetIntersection(names).IsEmpty().Not()
		}).Map(func(doc r.Term) r.Term {
			return r.Object("key", doc.Field(key), "fields", doc.Keys().SetIntersection(names))
		}).CoerceTo("array")
		return r.Object("table", name, "sampled", sample.Count(), "hits", hits)
	})
	var rows []struct {
		Table   string `rethinkdb:"table"`
		Sampled int    `rethinkdb:"sampled"`
		Hits    []struct {
			Key    any      `rethinkdb:"key"`
			Fields []string `rethinkdb:"fields"`
		} `rethinkdb:"hits"`
	}
	cur, err := term.Run(s.session, runOpts(ctx))
	if err == nil {
		err = cur.All(&rows)
		cur.Close()
	}
	if err != nil {
		return nil, classify(fmt.Errorf("sample the tables of %s for bookkeeping fields: %w", s.cfg.Database, err))
	}
	var out []*CollisionError
	for _, row := range rows {
		if len(row.Hits) == 0 {
			continue
		}
		seen := map[string]bool{}
		var found []string
		for _, h := range row.Hits {
			for _, f := range h.Fields {
				if !seen[f] {
					seen[f] = true
					found = append(found, f)
				}
			}
		}
		sort.Strings(found)
		out = append(out, &CollisionError{Database: s.cfg.Database, Table: row.Table, Fields: found,
			Count: len(row.Hits), Sampled: row.Sampled, SampleKey: row.Hits[0].Key})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out, nil
}

// createIfMissing runs create when exists is false, and reports whether it
// tried. When create fails, it asks exists again: a concurrent writer may
// have won the race, which is success, so no error message has to be
// interpreted.
func (s *Store) createIfMissing(ctx context.Context, what string, exists, create r.Term) (bool, error) {
	var found bool
	if err := s.readOne(ctx, exists, &found); err != nil {
		return false, classify(fmt.Errorf("look up %s: %w", what, err))
	}
	if found {
		return false, nil
	}
	createErr := s.exec(ctx, create)
	if createErr == nil {
		return true, nil
	}
	if err := s.readOne(ctx, exists, &found); err == nil && found {
		return true, nil
	}
	return true, classify(fmt.Errorf("create %s: %w", what, createErr))
}
