package rethinkdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// The names of the checks SampleSource reports.
const (
	CheckBookkeepingFields = "bookkeeping_fields"
	CheckLegacyFieldNames  = "legacy_field_names"
	CheckNonStringKeys     = "non_string_keys"
)

// legacyFieldNames are the bookkeeping field names of earlier releases. A
// document holding them is read as application data now; an operator
// whose documents an earlier Switchyard wrote must name them explicitly.
var legacyFieldNames = []string{"version", "deleted"}

// SampleSource reads the first n documents of entity as the application
// stored them and reports, without writing anything:
//
//   - bookkeeping_fields: documents that hold a bookkeeping field left at its
//     default name (the source would refuse to open; see CollisionError);
//   - legacy_field_names: a warning for documents holding "version" or
//     "deleted", which migrate as application data;
//   - non_string_keys: documents whose primary key is not a string, counted
//     over the whole table through the primary index (not only the sample).
//
// It fails with an error matching stores.ErrNoEntity when the table does
// not exist.
func (s *Store) SampleSource(ctx context.Context, entity string, n int) ([]stores.Check, error) {
	if !events.ValidEntity(entity) {
		return nil, fmt.Errorf("sample %q: %w: not a valid entity name", entity, stores.ErrNoEntity)
	}
	var exists bool
	if err := s.readOne(ctx, r.DB(s.cfg.Database).TableList().Contains(entity), &exists); err != nil {
		return nil, classify(fmt.Errorf("sample %s: %w", entity, err))
	}
	if !exists {
		return nil, fmt.Errorf("sample %s: %w", entity, stores.ErrNoEntity)
	}
	var checks []stores.Check
	collisions, err := s.sampleCollisions(ctx, entity, n, s.cfg.unnamedBookkeeping())
	if err != nil {
		return nil, err
	}
	if len(collisions) > 0 {
		checks = append(checks, fail(CheckBookkeepingFields, "%v", collisions[0]))
	} else {
		checks = append(checks, pass(CheckBookkeepingFields, "none of the first %d documents of %s holds a bookkeeping field (%s)", n, entity, strings.Join(s.cfg.unnamedBookkeeping(), ", ")))
	}
	var legacy []string
	for _, f := range legacyFieldNames {
		if !slices.Contains(s.cfg.bookkeeping(), f) && f != s.cfg.KeyField && f != s.cfg.ClientField {
			legacy = append(legacy, f)
		}
	}
	old, err := s.sampleCollisions(ctx, entity, n, legacy)
	if err != nil {
		return nil, err
	}
	if len(old) > 0 {
		c := old[0]
		checks = append(checks, warn(CheckLegacyFieldNames, "%d of the first %d documents of %s (e.g. key %s) hold %s: they migrate as application data, soft-deleted documents as live ones; if an earlier Switchyard wrote them as its own bookkeeping, set version_field=version&deleted_field=deleted",
			c.Count, c.Sampled, entity, describeKey(c.SampleKey), strings.Join(c.Fields, ", ")))
	} else {
		checks = append(checks, pass(CheckLegacyFieldNames, "none of the first %d documents of %s holds a field named version or deleted", n, entity))
	}
	sample, err := s.readAll(ctx, s.nonStringKeys(entity).Limit(1).Field(s.cfg.KeyField))
	if err != nil {
		return nil, classify(fmt.Errorf("sample %s for non-string keys: %w", entity, err))
	}
	if len(sample) > 0 {
		err := s.nonStringKeysError(ctx, entity, sample[0])
		var nonString *NonStringKeysError
		if !errors.As(err, &nonString) {
			return nil, err
		}
		checks = append(checks, fail(CheckNonStringKeys, "%v", nonString))
	} else {
		checks = append(checks, pass(CheckNonStringKeys, "every document of %s has a string key", entity))
	}
	return checks, nil
}

// scratchLedgerWindow bounds the ledger rows DropScratch looks through: the
// self-test's, recorded moments before.
const scratchLedgerWindow = 24 * 60 * 60

// DropScratch drops the table of a scratch entity (a name that begins with
// stores.ScratchPrefix) and deletes the ledger rows whose event id begins
// with the entity's name, among those recorded in the last 24 hours (the
// ledger is keyed by a digest, so the self-test names its event ids after
// its entity). Any other name is refused. A missing table is no error.
func (s *Store) DropScratch(ctx context.Context, entity string) error {
	if !strings.HasPrefix(entity, stores.ScratchPrefix) || !events.ValidEntity(entity) {
		return fmt.Errorf("drop scratch %q: %w: only entities named %s… are scratch", entity, stores.ErrNotScratch, stores.ScratchPrefix)
	}
	if s.cfg.Role == stores.RoleSource {
		return fmt.Errorf("drop scratch %s: %w", entity, ErrReadOnly)
	}
	db := r.DB(s.cfg.Database)
	if err := s.dropIfExists(ctx, db.TableList().Contains(entity), db.TableDrop(entity)); err != nil {
		if gone, _ := s.missing(ctx, db.TableList().Contains(entity)); !gone {
			return classify(fmt.Errorf("drop scratch table %s: %w", entity, err))
		}
	}
	s.tables.forget(entity)
	var ledgerExists bool
	if err := s.readOne(ctx, db.TableList().Contains(ledgerTable), &ledgerExists); err != nil || !ledgerExists {
		return classify(err)
	}
	prefix := entity
	term := db.Table(ledgerTable).
		Between(r.Now().Sub(scratchLedgerWindow), r.MaxVal, r.BetweenOpts{Index: ledgerTimeField}).
		Filter(func(row r.Term) r.Term {
			// Entity names are [a-z0-9_]: no regular expression syntax.
			return row.Field(ledgerIDField).Default("").Match("^" + prefix).Ne(nil)
		}).
		Delete(r.DeleteOpts{Durability: durability})
	if _, err := s.write(ctx, term); err != nil {
		return classify(fmt.Errorf("delete the ledger rows of %s: %w", entity, err))
	}
	return nil
}
