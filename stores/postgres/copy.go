package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyard/switchyard/stores"
)

// copyable reports whether a plan is a pure backfill: IfAbsent writes
// without event ids only. Such a plan can go through COPY, which inserts
// rows in bulk at about twice the rate of INSERT ... ON CONFLICT.
func copyable(plan *stores.Plan) bool {
	if len(plan.EventIDs)+len(plan.SupersededEventIDs) > 0 {
		return false
	}
	for _, ws := range plan.Writes {
		for _, w := range ws {
			if !w.IfAbsent || w.EventID != "" {
				return false
			}
		}
	}
	return true
}

// lookupExisting, when false, makes applyByCopy send every write to COPY
// without first asking which keys exist. Tests turn it off to force the
// conflict that a concurrent writer would cause.
var lookupExisting = true

// errCopyConflict: a key COPY was inserting appeared meanwhile (a live
// write committed between the lookup and the COPY).
var errCopyConflict = errors.New("a backfill key was written concurrently")

// applyByCopy applies a pure backfill plan in one transaction: per entity,
// look up which of the keys already have a row or tombstone, then COPY the
// others. If a concurrent writer inserts one of those keys first, the COPY
// fails on the primary key; the whole transaction is then rolled back and
// errCopyConflict returned, and the caller applies the plan with
// INSERT ... ON CONFLICT DO NOTHING instead. Either way, a backfill write
// only fills a key that has neither row nor tombstone.
func (s *Store) applyByCopy(ctx context.Context, plan *stores.Plan) (stores.ApplyResult, error) {
	if len(plan.Entities) == 1 {
		// One COPY is atomic on its own: no BEGIN and COMMIT round trips.
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return plan.Result, err
		}
		defer conn.Release()
		return s.copyEntities(ctx, conn, plan)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return plan.Result, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	result, err := s.copyEntities(ctx, tx, plan)
	if err != nil {
		return result, err
	}
	if err := tx.Commit(ctx); err != nil {
		return result, err
	}
	return result, nil
}

// copyConn is what the COPY path needs of a connection or transaction.
type copyConn interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// copyEntities looks up and copies the writes of every entity of the plan
// on conn.
func (s *Store) copyEntities(ctx context.Context, conn copyConn, plan *stores.Plan) (stores.ApplyResult, error) {
	result := plan.Result
	var now time.Time
	for _, entity := range plan.Entities {
		writes := plan.Writes[entity]
		keys := make([]string, len(writes))
		for i, w := range writes {
			keys[i] = w.Key
		}
		var existing []string
		if err := conn.QueryRow(ctx, `SELECT now(), ARRAY(SELECT key FROM `+s.table(entity)+` WHERE key = ANY ($1::text[]) AND $2)`,
			keys, lookupExisting).Scan(&now, &existing); err != nil {
			s.forgetOnMissingTable(err, entity)
			return result, fmt.Errorf("entity %s: %w", entity, err)
		}
		absent := writes
		if len(existing) > 0 {
			taken := make(map[string]bool, len(existing))
			for _, k := range existing {
				taken[k] = true
			}
			absent = make([]stores.Write, 0, len(writes)-len(existing))
			for _, w := range writes {
				if !taken[w.Key] {
					absent = append(absent, w)
				}
			}
		}
		result.Skipped += len(writes) - len(absent)
		if len(absent) == 0 {
			continue
		}
		n, err := conn.CopyFrom(ctx, pgx.Identifier{s.schema, entity},
			[]string{"key", "client", "version", "deleted", "data", "updated_at"},
			pgx.CopyFromSlice(len(absent), func(i int) ([]any, error) {
				w := absent[i]
				var data []byte
				if !w.Deleted {
					data = w.Data
				}
				return []any{w.Key, w.Client, w.Version, w.Deleted, data, now}, nil
			}))
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return result, errCopyConflict
			}
			s.forgetOnMissingTable(err, entity)
			return result, fmt.Errorf("entity %s: copy: %w", entity, err)
		}
		result.Applied += int(n)
	}
	return result, nil
}
