package benchpipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

func TestGenEventsSize(t *testing.T) {
	for _, size := range []int{300, 1000} {
		evs := genEvents(0, 100, 10, size)
		total := 0
		for _, ev := range evs {
			b, err := events.Encode(ev)
			if err != nil {
				t.Fatalf("generated an invalid event: %v", err)
			}
			total += len(b)
		}
		avg := total / len(evs)
		if avg < size*9/10 || avg > size*11/10 {
			t.Errorf("size %d: events average %d bytes", size, avg)
		}
	}
	evs := genEvents(0, 100, 10, 300)
	keys := map[string]bool{}
	for _, ev := range evs {
		keys[ev.Key] = true
	}
	if len(keys) != 10 {
		t.Errorf("100 events over 10 keys touched %d keys", len(keys))
	}
}

func TestPeakRSS(t *testing.T) {
	rss, err := peakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || rss > 64<<30 {
		t.Fatalf("peak RSS of the test process: %d bytes", rss)
	}
	if _, err := peakRSS(-1); err == nil {
		t.Fatal("peakRSS of no process succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{PostgresDSN: "postgres://x", WorkerBinary: "/bin/true"}.WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if good.Events != 200_000 || good.Keys != 50_000 || good.Size != 300 || good.Backlog != 1_000_000 {
		t.Fatalf("defaults: %+v", good)
	}
	bad := map[string]func(*Config){
		"no dsn":          func(c *Config) { c.PostgresDSN = "" },
		"no binary":       func(c *Config) { c.WorkerBinary = "" },
		"keys > events":   func(c *Config) { c.Keys = c.Events + 1 },
		"tiny size":       func(c *Config) { c.Size = 50 },
		"backlog < event": func(c *Config) { c.Backlog = c.Events - 1 },
		"per-message":     func(c *Config) { c.PerMessageEvents = c.Events + 1 },
		"scale 0 of many": func(c *Config) { c.Scale = []int{1, 0} },
		"scale too big":   func(c *Config) { c.Scale = []int{65} },
		"scale twice":     func(c *Config) { c.Scale = []int{1, 2, 1} },
		"backfill batch":  func(c *Config) { c.BackfillBatch = -1 },
	}
	for name, mutate := range bad {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if c := (Config{Backlog: -1}).WithDefaults(); c.Backlog != 0 {
		t.Errorf("a negative backlog should skip the measurement, got %d", c.Backlog)
	}
	if len(good.Scale) != 3 || good.Scale[2] != 4 || good.BackfillRows != good.Events || good.BackfillBatch != 5000 || good.BackfillCopiers != 4 {
		t.Errorf("defaults: scale %v, backfill %d rows in %d by %d", good.Scale, good.BackfillRows, good.BackfillBatch, good.BackfillCopiers)
	}
	if c := (Config{Scale: []int{0}, BackfillRows: -1}).WithDefaults(); len(c.Scale) != 0 || c.BackfillRows != 0 {
		t.Errorf("scale 0 and backfill rows -1 should skip them, got %v and %d", c.Scale, c.BackfillRows)
	}
}

// TestReportTargets checks that each new target decides Met on its own.
func TestReportTargets(t *testing.T) {
	sec := time.Second
	good := Report{
		Postgres:           Measurement{Events: 100_000, Elapsed: sec, CPU: 500 * time.Millisecond, BrokerCPU: 1200 * time.Millisecond},
		PostgresPerMessage: Measurement{Events: 1000, Elapsed: sec},
		PostgresRaw:        Measurement{Events: 120_000, Elapsed: sec},
		Scale: []ScaleRun{{1, Measurement{Events: 100, Elapsed: sec}}, {2, Measurement{Events: 95, Elapsed: sec}},
			{4, Measurement{Events: 120, Elapsed: sec}}},
		Backfill:     Measurement{Events: 80, Elapsed: sec},
		BackfillCopy: Measurement{Events: 100, Elapsed: sec},
		BacklogDepth: 1_000_000,
		Backlog:      Measurement{Events: 100_000, Elapsed: sec, CPU: 600 * time.Millisecond, PeakRSS: 50 << 20},
	}
	if !good.Met() {
		t.Fatalf("a report meeting every target: Met false (%+v)", good)
	}
	for name, breakIt := range map[string]func(r *Report){
		"worker CPU 9 µs/event": func(r *Report) { r.Postgres.CPU = 900 * time.Millisecond },
		"2 processes slower":    func(r *Report) { r.Scale[1].Events = 80 },
		"backfill 0.6x COPY":    func(r *Report) { r.Backfill.Events = 60 },
		"backlog cost 1.5x":     func(r *Report) { r.Backlog.CPU = 750 * time.Millisecond },
		"per message 14x":       func(r *Report) { r.PostgresPerMessage.Events = 100_000 / 14 },
	} {
		r := good
		r.Scale = append([]ScaleRun(nil), good.Scale...)
		breakIt(&r)
		if r.Met() {
			t.Errorf("%s: Met true", name)
		}
	}
	var out strings.Builder
	good.Print(&out)
	for _, want := range []string{"worker CPU per event", "4 worker processes", "backfill writes", "0.80x COPY", "1.20x the main run's", "broker CPU per event (embedded NATS)", "worker run 12µs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBackfillVsCopy runs the backfill measurement on a small table and
// checks both sides wrote every row.
func TestBackfillVsCopy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dsn, drop, err := pgSchema(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	cfg := Config{Events: 3000, Keys: 100, BackfillBatch: 700, BackfillCopiers: 3}.WithDefaults()
	fill, raw, err := backfillVsCopy(ctx, cfg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if fill.Events != 3000 || raw.Events != 3000 || fill.Elapsed <= 0 || raw.Elapsed <= 0 {
		t.Fatalf("backfill %+v, raw COPY %+v", fill, raw)
	}
	resolved, _ := stores.ResolveSecrets(dsn)
	conn, err := pgx.Connect(ctx, resolved)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{backfillEntity, copyTable} {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(DISTINCT key) FROM "+table).Scan(&n); err != nil || n != 3000 {
			t.Errorf("%s holds %d keys (%v), want 3000", table, n, err)
		}
	}
}

// TestPerMessageAndRawCeiling runs the comparison consumers on a small
// backlog and checks that they applied what they claim.
func TestPerMessageAndRawCeiling(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := startBroker(ctx, filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	cfg := Config{PostgresDSN: dsn, WorkerBinary: "unused", Events: 1000, Keys: 100, PerMessageEvents: 200}.WithDefaults()
	if err := b.fill(ctx, 0, cfg.Events, cfg.Keys, cfg.Size); err != nil {
		t.Fatal(err)
	}
	sink, err := all.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	n, elapsed, err := perMessage(ctx, b, "per-message", sink, cfg.PerMessageEvents)
	if err != nil || n != 200 || elapsed <= 0 {
		t.Fatalf("perMessage: %d events in %v: %v", n, elapsed, err)
	}
	floor, err := b.ackFloor(ctx, "per-message")
	if err != nil || floor != 200 {
		t.Fatalf("per-message consumer acknowledged up to %d (%v), want 200", floor, err)
	}
	rows, err := sink.Scan(ctx, "bench_tasks", stores.Range{})
	if err != nil || len(rows) != 100 {
		t.Fatalf("after 200 events over 100 keys: %d rows (%v)", len(rows), err)
	}

	runCeiling(ctx, t, dsn, "raw ceiling", cfg, func(sink stores.Writer) (time.Duration, error) {
		return rawCeiling(ctx, cfg, sink)
	})
	runCeiling(ctx, t, dsn, "NATS ceiling", cfg, func(sink stores.Writer) (time.Duration, error) {
		return natsCeiling(ctx, cfg, b, "nats-ceiling", sink)
	})
	if floor, err := b.ackFloor(ctx, "nats-ceiling"); err != nil || floor != 1000 {
		t.Fatalf("NATS ceiling acknowledged up to %d (%v), want 1000", floor, err)
	}
}

// runCeiling runs a ceiling into a schema of its own, dropped at the end
// of the test, and checks what it wrote (checkLastWrites).
func runCeiling(ctx context.Context, t *testing.T, dsn, name string, cfg Config, run func(stores.Writer) (time.Duration, error)) {
	t.Helper()
	schemaDSN, drop, err := pgSchema(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	if !strings.Contains(schemaDSN, "search_path=switchyard_bench_") {
		t.Fatalf("schema DSN %s", schemaDSN)
	}
	elapsed, _, err := timedInto(ctx, schemaDSN, run)
	if err != nil || elapsed <= 0 {
		t.Fatalf("%s: %v, %v", name, elapsed, err)
	}
	sink, err := all.Open(ctx, schemaDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	checkLastWrites(ctx, t, name, cfg, sink)
}

// checkLastWrites fails unless sink holds one row per key of the
// ceilings' writes, each at the version of that key's last write, and its
// ledger holds every write's event id: the writes applied again must all
// be duplicates. A ceiling that dropped any write would show here.
func checkLastWrites(ctx context.Context, t *testing.T, name string, cfg Config, sink stores.Store) {
	t.Helper()
	writes := rawWrites(cfg)
	want := map[string]int64{}
	for _, w := range writes {
		want[w.Key] = max(want[w.Key], w.Version)
	}
	rows, err := sink.Scan(ctx, "bench_tasks", stores.Range{})
	if err != nil || len(rows) != len(want) {
		t.Fatalf("%s: %d rows (%v), want %d", name, len(rows), err, len(want))
	}
	for _, row := range rows {
		if row.Version != want[row.Key] {
			t.Fatalf("%s: %s holds version %d, want %d (its last write)", name, row.Key, row.Version, want[row.Key])
		}
	}
	// Applied again cfg.Keys at a time, so that no write in a call
	// supersedes another (event i writes key i mod cfg.Keys).
	var again stores.ApplyResult
	for i := 0; i < len(writes); i += cfg.Keys {
		res, err := sink.Apply(ctx, writes[i:min(i+cfg.Keys, len(writes))])
		if err != nil {
			t.Fatalf("%s: apply the writes again: %v", name, err)
		}
		again.Duplicates += res.Duplicates
		again.Applied += res.Applied
		again.Skipped += res.Skipped
	}
	if again.Duplicates != len(writes) {
		t.Fatalf("%s: the writes applied again gave %+v, want all %d duplicates", name, again, len(writes))
	}
}

// BenchmarkRawCeiling measures the batched Apply alone, per event, into
// SQLite and PostgreSQL (when reachable).
func BenchmarkRawCeiling(b *testing.B) {
	run := func(b *testing.B, dsn string) {
		ctx := context.Background()
		sink, err := all.Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer sink.Close()
		cfg := Config{Events: max(b.N, 500), Keys: max(min(b.N, 50_000), 1)}.WithDefaults()
		b.ResetTimer()
		elapsed, err := rawCeiling(ctx, cfg, sink)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(cfg.Events)/elapsed.Seconds(), "events/s")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, "sqlite:"+filepath.Join(b.TempDir(), "raw.db")) })
	b.Run("postgres", func(b *testing.B) { run(b, testenv.Postgres(b)) })
}
