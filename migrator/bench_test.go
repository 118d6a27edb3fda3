package migrator

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
)

// benchRows is the size of the benchmark data set (SWITCHYARD_BENCH_ROWS,
// default one million).
func benchRows(b *testing.B) int { return benchInt(b, "SWITCHYARD_BENCH_ROWS", 1_000_000) }

// benchInt reads a positive number from the environment variable name, or
// returns def.
func benchInt(b *testing.B, name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q is not a positive number", name, s)
		}
		return n
	}
	return def
}

// benchRow is row i of the data set, the same for the source seed and the
// raw COPY.
func benchRow(i int) (key, client string, version int64, data json.RawMessage) {
	key = fmt.Sprintf("k%09d", i)
	return key, "client" + strconv.Itoa(i%97), int64(i + 1),
		json.RawMessage(fmt.Sprintf(`{"title":"task number %d","done":%t,"points":%d,"tags":["a","b"]}`, i, i%2 == 0, i%13))
}

// BenchmarkBackfillPostgres copies the data set from a SQLite source into
// PostgreSQL with the backfill, and into a plain table with a raw COPY in
// the same run, and prints both rates and their ratio; then it verifies
// the copy and prints the verify rate. Run it with -benchtime=1x.
func BenchmarkBackfillPostgres(b *testing.B) {
	ctx := context.Background()
	n := benchRows(b)
	srv := testenv.NATS(b)
	_, js := srv.Connect()
	if _, err := subscriptions.EnsureStream(ctx, js, subscriptions.StreamSpec{Name: testStream, Subjects: []string{"events.>"}}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []string{legacyName, targetName} {
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{Stream: testStream, Name: c, Start: subscriptions.StartPosition{Kind: subscriptions.StartNew}}); err != nil {
			b.Fatal(err)
		}
	}
	source, _ := sqliteStore(b, "source")
	seedStart := time.Now()
	batch := make([]stores.Write, 0, 5000)
	for i := range n {
		key, client, version, data := benchRow(i)
		batch = append(batch, stores.Write{Entity: "tasks", Key: key, Client: client, Version: version, Data: data})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := source.Apply(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Logf("seeded %d source rows in %s", n, time.Since(seedStart).Round(time.Millisecond))

	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dsn := testenv.Postgres(b)
		// The raw COPY runs before and after the backfill; the ratio uses
		// the faster of the two, so a load spike during one COPY cannot
		// flatter the backfill.
		copyBefore := rawCopy(b, dsn, n, "raw_copy_before")
		target, err := all.Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		state, err := OpenState(ctx, js, fmt.Sprintf("bench_%d", i))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rep, err := Backfill(ctx, BackfillConfig{
			Source: source, Target: target, Entities: []string{"tasks"}, JS: js, State: state,
			Stream: testStream, TargetConsumer: targetName, LegacyConsumer: legacyName,
			ChunkRows: 10000, BatchRows: benchInt(b, "SWITCHYARD_BENCH_BATCH", 5000), Copiers: benchInt(b, "SWITCHYARD_BENCH_COPIERS", 4), Restart: true, ProgressEvery: 100 * time.Millisecond,
		})
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Entities[0].Inserted != int64(n) {
			b.Fatalf("inserted %d rows, want %d", rep.Entities[0].Inserted, n)
		}
		backfillRate := float64(n) / elapsed.Seconds()
		copyAfter := rawCopy(b, dsn, n, "raw_copy_after")
		copyRate := max(copyBefore, copyAfter)

		vstart := time.Now()
		res, err := Verify(ctx, VerifyConfig{Source: source, Target: target, Entities: []string{"tasks"}, ChunkRows: 10000, State: state})
		velapsed := time.Since(vstart)
		if err != nil || !res.Clean || res.RowsSource != int64(n) {
			b.Fatalf("verify: %+v, %v", res, err)
		}
		verifyRate := float64(n) / velapsed.Seconds()
		target.Close()

		b.ReportMetric(backfillRate, "backfill-rows/s")
		b.ReportMetric(copyRate, "copy-rows/s")
		b.ReportMetric(backfillRate/copyRate, "ratio")
		b.ReportMetric(verifyRate, "verify-rows/s")
		fmt.Printf("migrator benchmark: %d rows into PostgreSQL\n", n)
		fmt.Printf("  backfill: %s, %.0f rows/s\n", elapsed.Round(time.Millisecond), backfillRate)
		fmt.Printf("  raw COPY: %.0f rows/s before, %.0f rows/s after the backfill\n", copyBefore, copyAfter)
		fmt.Printf("  ratio backfill / faster raw COPY: %.2fx (goal >= 0.5x)\n", backfillRate/copyRate)
		fmt.Printf("  verify:   %s, %.0f rows/s (both stores, checksums)\n", velapsed.Round(time.Millisecond), verifyRate)
	}
}

// rawCopy loads the data set into a plain table with COPY and returns rows/s.
func rawCopy(b *testing.B, dsn string, n int, table string) float64 {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	// The same shape as a store table (primary key and client index), so
	// the ratio measures the backfill, not a cheaper table.
	for _, ddl := range []string{
		`CREATE TABLE ` + table + ` (key text COLLATE "C" PRIMARY KEY, client text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, data jsonb, updated_at timestamptz NOT NULL)`,
		`CREATE INDEX ON ` + table + ` (client, key)`,
	} {
		if _, err := conn.Exec(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	i := 0
	start := time.Now()
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{table}, []string{"key", "client", "version", "deleted", "data", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			key, client, version, data := benchRow(i)
			i++
			return []any{key, client, version, false, string(data), now}, nil
		}))
	elapsed := time.Since(start)
	if err != nil || copied != int64(n) {
		b.Fatalf("COPY: %d rows, %v", copied, err)
	}
	return float64(n) / elapsed.Seconds()
}
