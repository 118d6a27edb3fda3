package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/procstat"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/postgres"
	"github.com/switchyard/switchyard/stores/storebench"
)

// BenchmarkApplyStatements compares, side by side in one run, ways to send
// a worker's batch (500 live writes with event ids: new keys, then the same
// keys at a higher version) and reports rows/s and the local PostgreSQL
// server's CPU time per row (db_µs/row, every session of the host). The
// variants: "statement" is what Apply sends, one pipelined statement per
// entity whose rows travel as binary arrays expanded by unnest, the ledger
// written in a CTE; "staging-copy" is, in one transaction, binary COPY into
// a temporary staging table, then one fenced INSERT … ON CONFLICT reading
// it, the ledger written in the same CTE; "statement-no-ledger" is what
// Apply sends for writes without event ids (producer versions), which
// shows the ledger's share of the cost. Run it with
//
//	go test -run '^$' -bench ApplyStatements -benchtime 40x ./stores/postgres
func BenchmarkApplyStatements(b *testing.B) {
	const batch = 500
	variants := []struct {
		name  string
		ids   bool
		apply func(ctx context.Context, st *postgres.Store, writes []stores.Write) (int, error)
	}{
		{"statement", true, applyByStore},
		{"staging-copy", true, applyByStaging},
		{"statement-no-ledger", false, applyByStore},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			st, _ := openFresh(b)
			ctx := context.Background()
			if _, err := st.Apply(ctx, storebench.Writes("bench", -1, 1, 1, v.ids, false)); err != nil {
				b.Fatal(err) // creates the table and the ledger outside the clock
			}
			var elapsed, dbCPU time.Duration
			rows := 0
			i := 0
			for b.Loop() {
				b.StopTimer()
				// Even iterations insert new keys, odd ones update them.
				writes := storebench.Writes("bench", (i/2)*batch, batch, int64(1+i%2), v.ids, false)
				b.StartTimer()
				db := procstat.StartCommandCPU("postgres")
				start := time.Now()
				applied, err := v.apply(ctx, st, writes)
				elapsed += time.Since(start)
				dbCPU += db()
				if err != nil {
					b.Fatal(err)
				}
				if applied != len(writes) {
					b.Fatalf("iteration %d applied %d of %d writes", i, applied, len(writes))
				}
				rows += len(writes)
				i++
			}
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(dbCPU.Microseconds())/float64(rows), "db_µs/row")
		})
	}
}

func applyByStore(ctx context.Context, st *postgres.Store, writes []stores.Write) (int, error) {
	res, err := st.Apply(ctx, writes)
	return res.Applied, err
}

// applyByStaging is the staging-table alternative to Apply's statement,
// for live writes with event ids of one entity whose keys are distinct
// and sorted (what the plan of a worker batch holds here).
func applyByStaging(ctx context.Context, st *postgres.Store, writes []stores.Write) (int, error) {
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS switchyard_stage
  (k text COLLATE "C", c text, v int8, d bool, j text, id text) ON COMMIT DELETE ROWS`); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"switchyard_stage"}, []string{"k", "c", "v", "d", "j", "id"},
		pgx.CopyFromSlice(len(writes), func(i int) ([]any, error) {
			w := writes[i]
			return []any{w.Key, w.Client, w.Version, w.Deleted, string(w.Data), w.EventID}, nil
		})); err != nil {
		return 0, err
	}
	schema := st.Schema()
	ledger := pgx.Identifier{schema, "switchyard_ledger"}.Sanitize()
	table := pgx.Identifier{schema, writes[0].Entity}.Sanitize()
	var fresh, applied int
	err = tx.QueryRow(ctx, fmt.Sprintf(`WITH fresh AS (
  INSERT INTO %s (event_id) SELECT id FROM switchyard_stage ORDER BY id
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id
), applied AS (
  INSERT INTO %s AS t (key, client, version, deleted, data, updated_at)
  SELECT k, c, v, d, j::jsonb, now() FROM switchyard_stage WHERE id IN (SELECT event_id FROM fresh)
  ON CONFLICT (key) DO UPDATE SET
    client = EXCLUDED.client, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
    data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
  WHERE t.version < EXCLUDED.version
  RETURNING 1
)
SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM applied)`, ledger, table)).Scan(&fresh, &applied)
	if err != nil {
		return 0, err
	}
	return applied, tx.Commit(ctx)
}
