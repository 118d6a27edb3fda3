package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"sort"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// ErrDuplicate matches the errors of a concurrent creation that left two
// databases or tables of one name, one of which already held data. The
// duplicate is kept under a new name for the operator to merge.
var ErrDuplicate = errors.New("concurrent creation left a duplicate that holds data")

// RethinkDB does not serialize the creation of databases and tables: when
// several writers of a fleet start at once on a fresh database, each may
// find the name missing and create it, and the server then holds several
// databases or tables of one name, every query naming them failing as
// ambiguous. Writers resolve this through the system tables, the same way
// whichever of them gets there: the copy with the lowest id is kept, every
// other copy is renamed to <name>_duplicate_<first 8 characters of its id>
// and dropped when it is empty. While names are ambiguous no query can
// write into any copy, so the renamed copies are empty in practice; one that
// is not is left renamed and reported (ErrDuplicate), never dropped.
//
// Resolving needs read and write access to the rethinkdb system database;
// without it the writer reports the ambiguity the server raised.

// duplicateName is the name a duplicate copy is renamed to.
func duplicateName(name, id string) string {
	return name + "_duplicate_" + id[:min(8, len(id))]
}

// resolveDuplicateDatabase keeps one database of the configured name.
func (s *Store) resolveDuplicateDatabase(ctx context.Context) error {
	sys := r.DB("rethinkdb").Table("db_config")
	extra, err := s.duplicateIDs(ctx, sys.Filter(map[string]any{"name": s.cfg.Database}))
	if err != nil || len(extra) == 0 {
		return err
	}
	for _, id := range extra {
		renamed := duplicateName(s.cfg.Database, id)
		if err := s.exec(ctx, sys.Get(id).Update(map[string]any{"name": renamed})); err != nil {
			return classify(fmt.Errorf("rename duplicate database %s (%s): %w", s.cfg.Database, id, err))
		}
		var tables int
		if err := s.readOne(ctx, r.DB(renamed).TableList().Count(), &tables); err != nil {
			return classify(fmt.Errorf("inspect duplicate database %s: %w", renamed, err))
		}
		if tables > 0 {
			return fmt.Errorf("%w: database %s had a duplicate with %d tables, now named %s", ErrDuplicate, s.cfg.Database, tables, renamed)
		}
		if err := s.dropIfExists(ctx, r.DBList().Contains(renamed), r.DBDrop(renamed)); err != nil {
			return classify(fmt.Errorf("drop duplicate database %s: %w", renamed, err))
		}
	}
	return nil
}

// resolveDuplicateTable keeps one table of the name in the database.
func (s *Store) resolveDuplicateTable(ctx context.Context, table string) error {
	sys := r.DB("rethinkdb").Table("table_config")
	extra, err := s.duplicateIDs(ctx, sys.Filter(map[string]any{"db": s.cfg.Database, "name": table}))
	if err != nil || len(extra) == 0 {
		return err
	}
	db := r.DB(s.cfg.Database)
	for _, id := range extra {
		renamed := duplicateName(table, id)
		if err := s.exec(ctx, sys.Get(id).Update(map[string]any{"name": renamed})); err != nil {
			return classify(fmt.Errorf("rename duplicate table %s (%s): %w", table, id, err))
		}
		var docs int
		if err := s.exec(ctx, db.Table(renamed).Wait(s.waitOpts())); err == nil {
			err = s.readOne(ctx, db.Table(renamed).Count(), &docs)
		}
		if err != nil {
			if gone, _ := s.missing(ctx, db.TableList().Contains(renamed)); gone {
				continue // another writer resolved it first
			}
			return classify(fmt.Errorf("inspect duplicate table %s: %w", renamed, err))
		}
		if docs > 0 {
			return fmt.Errorf("%w: table %s.%s had a duplicate with %d documents, now named %s", ErrDuplicate, s.cfg.Database, table, docs, renamed)
		}
		if err := s.dropIfExists(ctx, db.TableList().Contains(renamed), db.TableDrop(renamed)); err != nil {
			return classify(fmt.Errorf("drop duplicate table %s: %w", renamed, err))
		}
	}
	return nil
}

// duplicateIDs returns the ids of the rows of a system table beyond the
// one with the lowest id.
func (s *Store) duplicateIDs(ctx context.Context, rows r.Term) ([]string, error) {
	found, err := s.readAll(ctx, rows.Field("id"))
	if err != nil {
		return nil, classify(fmt.Errorf("look for duplicates in the system tables: %w", err))
	}
	var ids []string
	for _, v := range found {
		if id, ok := v.(string); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return nil, nil
	}
	sort.Strings(ids)
	return ids[1:], nil
}

func (s *Store) missing(ctx context.Context, exists r.Term) (bool, error) {
	var found bool
	err := s.readOne(ctx, exists, &found)
	return err == nil && !found, err
}

// dropIfExists runs drop unless another writer dropped it first.
func (s *Store) dropIfExists(ctx context.Context, exists, drop r.Term) error {
	err := s.exec(ctx, drop)
	if err == nil {
		return nil
	}
	if gone, _ := s.missing(ctx, exists); gone {
		return nil
	}
	return err
}
