package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/stores"
)

// Apply applies writes in one transaction (see stores.Writer). Phases:
// validate every write (a *stores.RejectError before anything is sent),
// plan (one write per key, sorted by key), ensure the tables, then in one
// transaction record the event ids in the ledger, dropping those already
// there, and send one live and one IfAbsent statement per entity in a single
// pipelined round trip. Lost connections, deadlocks, serialization failures
// and server restarts yield errors matching stores.ErrTransient; the
// transaction is then rolled back and the call may be retried.
func (s *Store) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	if len(writes) == 0 {
		return stores.ApplyResult{}, nil
	}
	if err := validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	plan := stores.NewPlan(writes)
	for _, entity := range plan.Entities {
		if err := s.ensureTable(ctx, entity); err != nil {
			return stores.ApplyResult{}, err
		}
	}
	result, err := s.applyPlan(ctx, plan)
	if err != nil {
		return stores.ApplyResult{}, classify(fmt.Errorf("postgres: apply: %w", err))
	}
	return result, nil
}

// statement is one set-based statement of an Apply: an entity's live or
// IfAbsent writes as column arrays.
type statement struct {
	entity string
	sql    string
	count  int
	args   []any
}

func (s *Store) applyPlan(ctx context.Context, plan *stores.Plan) (stores.ApplyResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return stores.ApplyResult{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	if len(plan.EventIDs) > 0 {
		seen, err := s.recordEventIDs(ctx, tx, plan.EventIDs)
		if err != nil {
			return stores.ApplyResult{}, err
		}
		plan.DropEventIDs(seen)
	}
	result := plan.Result
	var stmts []statement
	for _, entity := range plan.Entities {
		var live, absent []stores.Write
		for _, w := range plan.Writes[entity] {
			if w.IfAbsent {
				absent = append(absent, w)
			} else {
				live = append(live, w)
			}
		}
		if len(live) > 0 {
			stmts = append(stmts, statement{entity, s.upsertSQL(entity), len(live), columnArrays(live)})
		}
		if len(absent) > 0 {
			stmts = append(stmts, statement{entity, s.insertIfAbsentSQL(entity), len(absent), columnArrays(absent)})
		}
	}
	if len(stmts) > 0 {
		batch := &pgx.Batch{}
		for _, st := range stmts {
			batch.Queue(st.sql, st.args...)
		}
		br := tx.SendBatch(ctx, batch)
		for _, st := range stmts {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				s.forgetOnMissingTable(err, st.entity)
				return stores.ApplyResult{}, fmt.Errorf("entity %s: %w", st.entity, err)
			}
			n := int(tag.RowsAffected())
			result.Applied += n
			result.Skipped += st.count - n
		}
		if err := br.Close(); err != nil {
			return stores.ApplyResult{}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return stores.ApplyResult{}, err
	}
	return result, nil
}

// recordEventIDs inserts the ids (sorted, so concurrent transactions lock
// ledger rows in one order) and returns the ones already there. A
// concurrent transaction inserting the same id makes this one wait for its
// outcome, so an id is applied at most once.
func (s *Store) recordEventIDs(ctx context.Context, tx pgx.Tx, ids []string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `
INSERT INTO `+s.ledger+` (event_id)
SELECT id FROM unnest($1::text[]) AS u(id)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	inserted := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger: %w", err)
		}
		inserted[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if len(inserted) == len(ids) {
		return nil, nil
	}
	seen := make(map[string]bool, len(ids)-len(inserted))
	for _, id := range ids {
		if !inserted[id] {
			seen[id] = true
		}
	}
	return seen, nil
}

// columnArrays turns writes into the five array parameters of the apply
// statements. Documents are passed as they came; tombstones send NULL.
func columnArrays(writes []stores.Write) []any {
	keys := make([]string, len(writes))
	clients := make([]string, len(writes))
	versions := make([]int64, len(writes))
	deleted := make([]bool, len(writes))
	data := make([][]byte, len(writes))
	for i, w := range writes {
		keys[i], clients[i], versions[i], deleted[i] = w.Key, w.Client, w.Version, w.Deleted
		if !w.Deleted {
			data[i] = w.Data
		}
	}
	return []any{keys, clients, versions, deleted, data}
}

// rowsSource expands the array parameters into rows.
const rowsSource = `SELECT k, c, v, d, j, now()
FROM unnest($1::text[], $2::text[], $3::int8[], $4::bool[], $5::jsonb[]) AS u(k, c, v, d, j)`

// upsertSQL is the version-fenced upsert of ordinary writes: insert, or
// update only when the incoming version is higher (tombstones included).
func (s *Store) upsertSQL(entity string) string {
	return `INSERT INTO ` + s.table(entity) + ` AS t (key, client, version, deleted, data, updated_at)
` + rowsSource + `
ON CONFLICT (key) DO UPDATE SET
  client = EXCLUDED.client, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
  data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
WHERE t.version < EXCLUDED.version`
}

// insertIfAbsentSQL inserts backfill writes only where the key has neither
// row nor tombstone.
func (s *Store) insertIfAbsentSQL(entity string) string {
	return `INSERT INTO ` + s.table(entity) + ` AS t (key, client, version, deleted, data, updated_at)
` + rowsSource + `
ON CONFLICT (key) DO NOTHING`
}
