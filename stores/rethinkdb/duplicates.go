package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// ErrDuplicate matches the errors of a concurrent creation that left two
// databases or tables of one name, where the duplicate could not be
// emptied: a database copy that holds tables, or a table copy still being
// written after every merge. The duplicate is kept under a new name for
// the operator to merge.
var ErrDuplicate = errors.New("concurrent creation left a duplicate that holds data")

// RethinkDB does not serialize the creation of databases and tables: when
// several writers of a fleet start at once on a fresh database, each may
// find the name missing and create it, and the server then holds several
// databases or tables of one name, every query naming them failing as
// ambiguous. A copy can become visible after a writer found the name
// unique and wrote into it, so a writer can meet the ambiguity on any of
// its queries, not only just after its own creation; the writer's queries
// go through retryAfterDuplicates, and a table is looked at once when it
// is opened. Writers resolve copies through the system tables, the same
// way whichever of them gets there: the copy with the lowest id is kept,
// every other copy is renamed to <name>_duplicate_<first 8 characters of
// its id>. A table copy's documents are merged into the kept table by the
// writes' own rule before it is dropped (drainDuplicate), so a write is
// not hidden in whichever copy it went to; docs/stores.md says the narrow
// window that remains. A database copy that holds tables is left renamed
// and reported (ErrDuplicate), never dropped.
//
// Resolving needs read and write access to the rethinkdb system database;
// without it the writer reports the ambiguity the server raised, with the
// reason resolving failed.

// duplicateName is the name a duplicate copy is renamed to.
func duplicateName(name, id string) string {
	return name + "_duplicate_" + id[:min(8, len(id))]
}

// resolveDuplicateDatabase keeps one database of the configured name and
// reports whether it found other copies. A copy without tables is dropped;
// one with tables is left renamed and reported.
func (s *Store) resolveDuplicateDatabase(ctx context.Context) (bool, error) {
	sys := r.DB("rethinkdb").Table("db_config")
	extra, err := s.duplicateIDs(ctx, sys.Filter(map[string]any{"name": s.cfg.Database}))
	if err != nil || len(extra) == 0 {
		return false, err
	}
	for _, id := range extra {
		renamed := duplicateName(s.cfg.Database, id)
		if err := s.exec(ctx, sys.Get(id).Update(map[string]any{"name": renamed})); err != nil {
			return true, classify(fmt.Errorf("rename duplicate database %s (%s): %w", s.cfg.Database, id, err))
		}
		var tables int
		if err := s.readOne(ctx, r.DB(renamed).TableList().Count(), &tables); err != nil {
			if gone, _ := s.missing(ctx, r.DBList().Contains(renamed)); gone {
				continue // another writer resolved it first
			}
			return true, classify(fmt.Errorf("inspect duplicate database %s: %w", renamed, err))
		}
		if tables > 0 {
			return true, fmt.Errorf("%w: database %s had a duplicate with %d tables, now named %s", ErrDuplicate, s.cfg.Database, tables, renamed)
		}
		if err := s.dropIfExists(ctx, r.DBList().Contains(renamed), r.DBDrop(renamed)); err != nil {
			return true, classify(fmt.Errorf("drop duplicate database %s: %w", renamed, err))
		}
	}
	return true, nil
}

// resolveDuplicateTable keeps one table of the name in the database and
// reports whether it found copies. Every other copy is renamed, drained
// into the kept one (drainDuplicate) and dropped. Copies left renamed by
// an earlier drain that did not finish (a killed writer, a lost
// connection) are found by their name and drained too.
//
// When the system table cannot be read (a writer without access to the
// rethinkdb database), it fails with a *lookupError.
func (s *Store) resolveDuplicateTable(ctx context.Context, table string) (bool, error) {
	sys := r.DB("rethinkdb").Table("table_config")
	found, err := s.readAll(ctx, copiesTerm(s.cfg.Database, table))
	if err != nil {
		return false, &lookupError{classify(fmt.Errorf("look for copies of table %s in rethinkdb.table_config: %w", table, err))}
	}
	var copies []string
	drain := map[string]string{} // id → the copy's name
	for _, v := range found {
		row, _ := v.(map[string]any)
		id, _ := row["id"].(string)
		name, _ := row["name"].(string)
		switch {
		case id == "":
		case name == table:
			copies = append(copies, id)
		default:
			drain[id] = name
		}
	}
	sort.Strings(copies)
	for _, id := range copies[min(1, len(copies)):] {
		renamed := duplicateName(table, id)
		if err := s.exec(ctx, sys.Get(id).Update(map[string]any{"name": renamed})); err != nil {
			return true, classify(fmt.Errorf("rename duplicate table %s (%s): %w", table, id, err))
		}
		drain[id] = renamed
	}
	ids := make([]string, 0, len(drain))
	for id := range drain {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := s.drainDuplicate(ctx, table, drain[id], id); err != nil {
			return true, err
		}
	}
	return len(ids) > 0, nil
}

// copiesTerm lists the id and name of every table of database named
// table, and of every copy of it renamed by an earlier resolve:
//
//	r.db("rethinkdb").table("table_config").filter(row =>
//	  row("db").eq(database).and(row("name").eq(table).or(row("name").match(<table>_duplicate_…))))
//	  .pluck("id", "name")
func copiesTerm(database, table string) r.Term {
	leftover := "^" + regexp.QuoteMeta(table) + "_duplicate_[0-9a-f]{8}$"
	return r.DB("rethinkdb").Table("table_config").Filter(func(row r.Term) r.Term {
		return row.Field("db").Eq(database).And(row.Field("name").Eq(table).Or(row.Field("name").Match(leftover)))
	}).Pluck("id", "name")
}

// lookupError: the system tables that list copies could not be read.
type lookupError struct{ err error }

func (e *lookupError) Error() string { return e.err.Error() }
func (e *lookupError) Unwrap() error { return e.err }

// drainAttempts bounds how many times drainDuplicate merges a duplicate
// that is not empty yet: each pass takes what writers that had resolved
// the name before the rename wrote since the previous one.
const drainAttempts = 5

// drainDuplicate empties the renamed copy (of id) of table into table and
// drops it. A copy is not always empty: a writer that found the name
// unique, before the other copy became visible, may have written into
// either, and whichever it was may not be the copy that stays. So each
// document is merged into the kept table by the same rule the writes use
// (mergeTerm), and removed from the copy only once that merge succeeded
// and only if it is still what was merged. The copy is dropped once it is
// empty; one that still holds documents after drainAttempts merges is left
// renamed and reported (ErrDuplicate), never dropped.
func (s *Store) drainDuplicate(ctx context.Context, table, renamed, id string) error {
	db := r.DB(s.cfg.Database)
	docs := 0
	// pass drops the copy when it is empty and, when merge is set, merges
	// it otherwise.
	pass := func(merge bool) (dropped bool, err error) {
		if err := s.exec(ctx, db.Table(renamed).Wait(s.waitOpts())); err != nil {
			return false, fmt.Errorf("wait for duplicate table %s: %w", renamed, err)
		}
		if err := s.readOne(ctx, db.Table(renamed).Count(), &docs); err != nil {
			return false, fmt.Errorf("count duplicate table %s: %w", renamed, err)
		}
		if docs == 0 {
			if err := s.dropIfExists(ctx, db.TableList().Contains(renamed), db.TableDrop(renamed)); err != nil {
				return false, fmt.Errorf("drop duplicate table %s: %w", renamed, err)
			}
			return true, nil
		}
		if !merge {
			return false, nil
		}
		if _, err := s.write(ctx, s.mergeTerm(table, renamed)); err != nil {
			return false, fmt.Errorf("merge duplicate table %s into %s: %w", renamed, table, err)
		}
		return false, nil
	}
	// gone asks by id, not by name: a server that has not seen the rename
	// yet does not list the new name, though the copy is still there.
	gone := func() bool {
		missing, _ := s.missing(ctx, r.DB("rethinkdb").Table("table_config").Get(id).Ne(nil))
		return missing
	}
	var err error
	for attempt := range drainAttempts + 1 {
		var dropped bool
		if dropped, err = pass(attempt < drainAttempts); dropped {
			return nil
		}
		if err == nil {
			continue
		}
		// Every writer that met the copies drains them, so another may drop
		// the copy under this one's queries, which then fail with an
		// availability error until the drop completes. So a failed pass
		// waits for the copy: gone means drained, ready means pass again.
		if gone() {
			return nil
		}
		if waitErr := s.exec(ctx, db.Table(renamed).Wait(s.waitOpts())); waitErr != nil {
			if gone() {
				return nil
			}
			return classify(err)
		}
	}
	if err != nil {
		return classify(err)
	}
	return fmt.Errorf("%w: table %s.%s had a duplicate that still held %d documents after %d merges, now named %s", ErrDuplicate, s.cfg.Database, table, docs, drainAttempts, renamed)
}

// mergeTerm moves the documents of the copy from into table, one atomic
// write per document on each side, the second only when the first
// succeeded:
//
//	from.forEach(doc =>
//	  table.get(doc(key)).replace(old => branch(keep(old, doc), doc, old))
//	    .do(res => branch(res("errors").eq(0),
//	      from.get(doc(key)).replace(cur => branch(cur.eq(doc), null, cur)),
//	      res)))
//
// keep is the version fence for an entity table (old missing, or older
// than doc; tombstones are documents with a version too) and "old
// missing" for the ledger, whose rows for one key all record the same
// event. A merged document keeps the updated time of its original write.
// A document the copy changed in between stays for the next pass.
func (s *Store) mergeTerm(table, from string) r.Term {
	db := r.DB(s.cfg.Database)
	kept, dup := db.Table(table), db.Table(from)
	key, version := s.cfg.KeyField, s.cfg.VersionField
	keep := func(old, doc r.Term) r.Term {
		return old.Eq(nil).Or(old.Field(version).Default(0).Lt(doc.Field(version).Default(0)))
	}
	if table == ledgerTable {
		key = ledgerKey
		keep = func(old, _ r.Term) r.Term { return old.Eq(nil) }
	}
	return dup.ForEach(func(doc r.Term) any {
		merged := kept.Get(doc.Field(key)).Replace(func(old r.Term) any {
			return r.Branch(keep(old, doc), doc, old)
		}, r.ReplaceOpts{Durability: durability})
		return merged.Do(func(res r.Term) any {
			return r.Branch(res.Field("errors").Eq(0),
				dup.Get(doc.Field(key)).Replace(func(cur r.Term) any {
					return r.Branch(cur.Eq(doc), nil, cur)
				}, r.ReplaceOpts{Durability: durability}),
				res)
		})
	})
}

// retryAfterDuplicates runs op, and when it fails with OP_FAILED (which
// is also how RethinkDB reports an ambiguous name) resolves copies of the
// database and of the table and runs op again, up to opAttempts times in
// all. A writer that found the table, or created it, can meet a copy that
// a concurrent creator's tableCreate makes visible only later.
//
// When the system tables show no copies, op is still run once more: the
// failed query may have named the table while another writer's rename of
// a copy was taking effect. An OP_FAILED that has nothing to do with
// copies (an unavailable table, a table_wait that timed out) costs that
// one extra try. When the copies cannot be resolved (no access to the
// system tables, a lost connection), op's own error is returned, with the
// reason attached; only ErrDuplicate replaces it.
func (s *Store) retryAfterDuplicates(ctx context.Context, table string, op func() error) error {
	err := op()
	blindRetry := true
	for range opAttempts - 1 {
		if err == nil || !isOpFailed(err) {
			return err
		}
		foundDatabase, resolveErr := s.resolveDuplicateDatabase(ctx)
		found := false
		if resolveErr == nil {
			found, resolveErr = s.resolveDuplicateTable(ctx, table)
		}
		if errors.Is(resolveErr, ErrDuplicate) {
			return resolveErr
		}
		if resolveErr != nil {
			return fmt.Errorf("%w (resolving copies of %s failed too: %v)", err, table, resolveErr)
		}
		if !found && !foundDatabase {
			if !blindRetry {
				return err
			}
			blindRetry = false
		}
		err = op()
	}
	return err
}

// opAttempts bounds how many times retryAfterDuplicates runs one query.
const opAttempts = 5

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
