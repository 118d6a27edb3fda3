package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyard/switchyard/stores"
)

// Apply applies writes in one transaction (see stores.Writer). Phases:
// validate every write (a *stores.RejectError before anything is sent),
// plan (one write per key, sorted by key), ensure the tables. A pure
// backfill (IfAbsent writes without event ids) goes through COPY (see
// applyByCopy). Anything else, or a backfill that met a concurrent writer,
// is sent as one statement per entity and kind (live, IfAbsent) in a
// single pipelined round trip that the server runs as one implicit
// transaction. Each statement records its event ids in the ledger and
// applies only the writes whose id was not there. Lost connections, deadlocks, serialization failures and
// server restarts yield errors matching stores.ErrTransient; nothing of the
// call is then committed, or (a connection lost during the commit) all of
// it, and a retry is harmless: the ledger and the fence skip what applied.
func (s *Store) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	if len(writes) == 0 {
		return stores.ApplyResult{}, nil
	}
	if err := validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	if err := s.ensureBookkeeping(ctx); err != nil {
		return stores.ApplyResult{}, err
	}
	plan := stores.NewPlan(writes)
	for _, entity := range plan.Entities {
		if err := s.ensureTable(ctx, entity); err != nil {
			return stores.ApplyResult{}, err
		}
	}
	if copyable(plan) {
		result, err := s.applyByCopy(ctx, plan)
		if !errors.Is(err, errCopyConflict) {
			if err != nil {
				return stores.ApplyResult{}, classify(fmt.Errorf("postgres: apply: %w", err))
			}
			return result, nil
		}
	}
	result, err := s.applyPlan(ctx, plan)
	if err != nil {
		return stores.ApplyResult{}, classify(fmt.Errorf("postgres: apply: %w", err))
	}
	return result, nil
}

// statement describes one queued statement of an Apply, for reading its
// result: the entity, how many writes it sent and how many had an event id.
type statement struct {
	entity string
	count  int // writes sent
	withID int // writes with an event id
}

// applyPlan sends the statements of a plan as one pgx batch. pgx sends a
// batch with a single Sync, so PostgreSQL runs it as one implicit
// transaction: every statement commits, or none.
func (s *Store) applyPlan(ctx context.Context, plan *stores.Plan) (stores.ApplyResult, error) {
	result := plan.Result
	batch := &pgx.Batch{}
	var stmts []statement
	for _, entity := range plan.Entities {
		live, absent := splitIfAbsent(plan.Writes[entity])
		for _, group := range []struct {
			writes   []stores.Write
			conflict string
		}{{live, upsertConflict}, {absent, ifAbsentConflict}} {
			if len(group.writes) == 0 {
				continue
			}
			args, withID := columnArrays(group.writes)
			if withID == 0 {
				// No ledger work (the backfill): the plain statement.
				batch.Queue(s.applyWithoutLedgerSQL(entity, group.conflict), args[:5]...)
			} else {
				batch.Queue(s.applySQL(entity, group.conflict), args...)
			}
			stmts = append(stmts, statement{entity, len(group.writes), withID})
		}
	}
	if len(plan.SupersededEventIDs) > 0 {
		// Writes that lost to a higher version in this call: their ids go
		// into the ledger too, so a late retry of one is a duplicate.
		batch.Queue(`INSERT INTO `+s.ledger+` (event_id)
SELECT id FROM unnest($1::text[]) AS u(id) ORDER BY id
ON CONFLICT (event_id) DO NOTHING`, plan.SupersededEventIDs)
	}
	br := s.pool.SendBatch(ctx, batch)
	for _, st := range stmts {
		var fresh, applied int
		var err error
		if st.withID == 0 {
			var tag pgconn.CommandTag
			tag, err = br.Exec()
			applied = int(tag.RowsAffected())
		} else {
			err = br.QueryRow().Scan(&fresh, &applied)
		}
		if err != nil {
			br.Close()
			s.forgetOnMissingTable(err, st.entity)
			return stores.ApplyResult{}, fmt.Errorf("entity %s: %w", st.entity, err)
		}
		duplicates := st.withID - fresh
		result.Duplicates += duplicates
		result.Applied += applied
		result.Skipped += st.count - applied - duplicates
	}
	if len(plan.SupersededEventIDs) > 0 {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return stores.ApplyResult{}, fmt.Errorf("ledger: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return stores.ApplyResult{}, err
	}
	return result, nil
}

// splitIfAbsent separates ordinary writes from IfAbsent ones, keeping the
// order. A call usually holds one kind only (the stream's or the
// backfill's), and then the writes are passed on as they are, not copied.
func splitIfAbsent(writes []stores.Write) (live, absent []stores.Write) {
	n := 0
	for i := range writes {
		if writes[i].IfAbsent {
			n++
		}
	}
	switch n {
	case 0:
		return writes, nil
	case len(writes):
		return nil, writes
	}
	live, absent = make([]stores.Write, 0, len(writes)-n), make([]stores.Write, 0, n)
	for _, w := range writes {
		if w.IfAbsent {
			absent = append(absent, w)
		} else {
			live = append(live, w)
		}
	}
	return live, absent
}

// columnArrays turns writes into the six array parameters of an apply
// statement (views of the writes, see columns.go), binary-encoded by pgx,
// and counts the writes with an event id. Documents are passed as they
// came, without a copy; tombstones send NULL. Event ids travel as they
// are, "" for none (an id is never empty), which the statement turns into
// NULL: no conversion per write.
func columnArrays(writes []stores.Write) ([]any, int) {
	withID := 0
	for i := range writes {
		if writes[i].EventID != "" {
			withID++
		}
	}
	return []any{keyColumn(writes), clientColumn(writes), versionColumn(writes),
		deletedColumn(writes), dataColumn(writes), eventIDColumn(writes)}, withID
}

const (
	// upsertConflict is the version fence of ordinary writes: insert, or
	// update only when the incoming version is higher (tombstones included).
	upsertConflict = `ON CONFLICT (key) DO UPDATE SET
    client = EXCLUDED.client, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
    data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
  WHERE t.version < EXCLUDED.version`
	// ifAbsentConflict leaves any existing row or tombstone alone.
	ifAbsentConflict = `ON CONFLICT (key) DO NOTHING`
)

// applySQL is the statement for one entity's writes of one kind. It
//
//   - expands the array parameters into rows (documents travel as text and
//     are cast to jsonb here: the server parses JSON text about twice as fast
//     as it receives a binary jsonb[] array);
//   - records the event ids in the ledger, sorted so that concurrent
//     transactions lock ledger entries in one order; an id a concurrent
//     transaction is inserting makes this one wait for its outcome, so an
//     id is applied at most once;
//   - applies the writes without an id and those whose id was new;
//   - returns how many ids were new and how many rows changed.
func (s *Store) applySQL(entity, conflict string) string {
	return `WITH u AS (
  SELECT k, c, v, d, j, NULLIF(id, '') AS id
  FROM unnest($1::text[], $2::text[], $3::int8[], $4::bool[], $5::text[], $6::text[]) AS u(k, c, v, d, j, id)
), fresh AS (
  INSERT INTO ` + s.ledger + ` (event_id)
  SELECT id FROM u WHERE id IS NOT NULL ORDER BY id
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id
), applied AS (
  INSERT INTO ` + s.table(entity) + ` AS t (key, client, version, deleted, data, updated_at)
  SELECT k, c, v, d, j::jsonb, now() FROM u
  WHERE id IS NULL OR id IN (SELECT event_id FROM fresh)
  ` + conflict + `
  RETURNING 1
)
SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM applied)`
}

// applyWithoutLedgerSQL is applySQL for writes without event ids: the rows
// go straight from the arrays into the table.
func (s *Store) applyWithoutLedgerSQL(entity, conflict string) string {
	return `INSERT INTO ` + s.table(entity) + ` AS t (key, client, version, deleted, data, updated_at)
SELECT k, c, v, d, j::jsonb, now()
FROM unnest($1::text[], $2::text[], $3::int8[], $4::bool[], $5::text[]) AS u(k, c, v, d, j)
` + conflict
}
