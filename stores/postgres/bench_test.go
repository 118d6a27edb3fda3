package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/storebench"
)

// BenchmarkApply reports rows/s of batched inserts, updates and backfill
// writes into PostgreSQL.
func BenchmarkApply(b *testing.B) {
	storebench.BenchmarkApply(b, func(b *testing.B) stores.Store {
		st, _ := openFresh(b)
		return st
	}, 500)
}

// BenchmarkBackfillVsCopy measures, in the same run, backfill writes
// through Apply (IfAbsent, in batches) and one raw COPY of the same rows
// into a table of the same shape, and reports both rates and their ratio.
func BenchmarkBackfillVsCopy(b *testing.B) {
	for _, batch := range []int{500, 2000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchmarkBackfillVsCopy(b, batch) })
	}
}

func benchmarkBackfillVsCopy(b *testing.B, batch int) {
	const rows = 20_000
	st, _ := openFresh(b)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `CREATE TABLE copy_target (
  key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL,
  deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `CREATE INDEX ON copy_target (client, key)`); err != nil {
		b.Fatal(err)
	}
	writes := storebench.Writes("fill", 0, rows, 1, false, true)
	if _, err := st.Apply(ctx, writes[:1]); err != nil { // creates the table
		b.Fatal(err)
	}
	var applyTime, copyTime time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := st.Pool().Exec(ctx, `TRUNCATE fill`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for from := 0; from < rows; from += batch {
			if _, err := st.Apply(ctx, writes[from:from+batch]); err != nil {
				b.Fatal(err)
			}
		}
		applyTime += time.Since(start)

		b.StopTimer()
		if _, err := st.Pool().Exec(ctx, `TRUNCATE copy_target`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		now := time.Now()
		start = time.Now()
		n, err := st.Pool().CopyFrom(ctx, pgx.Identifier{"copy_target"}, []string{"key", "client", "version", "deleted", "data", "updated_at"},
			pgx.CopyFromSlice(len(writes), func(i int) ([]any, error) {
				w := writes[i]
				return []any{w.Key, w.Client, w.Version, false, []byte(w.Data), now}, nil
			}))
		copyTime += time.Since(start)
		if err != nil || n != rows {
			b.Fatalf("COPY: %d rows, %v", n, err)
		}
		round++
	}
	applyRate := float64(rows*round) / applyTime.Seconds()
	copyRate := float64(rows*round) / copyTime.Seconds()
	b.ReportMetric(applyRate, "backfill_rows/s")
	b.ReportMetric(copyRate, "copy_rows/s")
	b.ReportMetric(applyRate/copyRate, "backfill/copy")
}
