package benchpipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/switchyard/switchyard/internal/procstat"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	_ "github.com/switchyard/switchyard/stores/postgres" // the measured stores
	_ "github.com/switchyard/switchyard/stores/sqlite"
)

// Run measures everything the Report holds, one measurement after the
// other so they do not compete for the CPUs. It fails when a part cannot
// run (no PostgreSQL, a worker that exits); a missed target is not an error,
// the Report says so.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	rep := Report{Events: cfg.Events, Keys: cfg.Keys, Size: cfg.Size, BatchSize: cfg.BatchSize,
		Concurrency: cfg.Concurrency, Rounds: cfg.Rounds, CPUs: runtime.NumCPU()}
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "switchyard-bench-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }

	b, err := startBroker(ctx, filepath.Join(dir, "nats"))
	if err != nil {
		return rep, err
	}
	defer b.close()
	logf("publishing %d events to the embedded server", cfg.Events)
	if err := b.fill(ctx, 0, cfg.Events, cfg.Keys, cfg.Size); err != nil {
		return rep, err
	}

	// 1. The worker process into PostgreSQL and the raw ceiling (the same
	// batches, no NATS), alternating for Rounds rounds; the best round of
	// each counts, so a burst of load on a shared machine does not decide
	// the ratio.
	for round := 1; round <= cfg.Rounds; round++ {
		logf("postgres: round %d of %d: worker process applying %d events", round, cfg.Rounds, cfg.Events)
		m, err := workerInto(ctx, cfg, b, fmt.Sprintf("bench-pg-%d", round), cfg.Events, 0, 1)
		if err != nil {
			return rep, err
		}
		rep.Postgres = best(rep.Postgres, m)
		logf("postgres: round %d of %d: raw ceiling, %d events", round, cfg.Rounds, cfg.Events)
		raw, err := ceilingInto(ctx, cfg, func(sink stores.Writer) (time.Duration, error) {
			return rawCeiling(ctx, cfg, sink)
		})
		if err != nil {
			return rep, err
		}
		rep.PostgresRaw = best(rep.PostgresRaw, raw)
		logf("postgres: round %d of %d: NATS ceiling, %d events", round, cfg.Rounds, cfg.Events)
		viaNATS, err := ceilingInto(ctx, cfg, func(sink stores.Writer) (time.Duration, error) {
			return natsCeiling(ctx, cfg, b, fmt.Sprintf("bench-nats-ceiling-%d", round), sink)
		})
		if err != nil {
			return rep, err
		}
		rep.PostgresNATSCeiling = best(rep.PostgresNATSCeiling, viaNATS)
	}
	// 2. One upsert per message, same stream, fresh schema.
	logf("postgres: one upsert per message, %d events", cfg.PerMessageEvents)
	if err := withPostgres(ctx, cfg, func(dsn string) error {
		sink, err := all.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer sink.Close()
		db := startDatabaseCPU()
		n, elapsed, err := perMessage(ctx, b, "bench-per-message", sink, cfg.PerMessageEvents)
		rep.PostgresPerMessage = Measurement{Events: n, Elapsed: elapsed, DatabaseCPU: db()}
		return err
	}); err != nil {
		return rep, err
	}
	// 3. Scale: 1, 2, 4 worker processes sharing one consumer, the counts
	// alternating for Rounds rounds; the best round of each counts.
	rep.Scale = make([]ScaleRun, len(cfg.Scale))
	for round := 1; round <= cfg.Rounds; round++ {
		for i, procs := range cfg.Scale {
			logf("postgres: round %d of %d: %d worker processes on one consumer applying %d events", round, cfg.Rounds, procs, cfg.Events)
			m, err := workerInto(ctx, cfg, b, fmt.Sprintf("bench-scale-%d-%d", procs, round), cfg.Events, 0, procs)
			if err != nil {
				return rep, err
			}
			rep.Scale[i] = ScaleRun{Processes: procs, Measurement: best(rep.Scale[i].Measurement, m)}
		}
	}
	// 4. The backfill's writes against a raw COPY of the same rows.
	if cfg.BackfillRows > 0 {
		logf("postgres: backfill writes (%d rows, batches of %d, %d copiers) and a raw COPY of the same rows", cfg.BackfillRows, cfg.BackfillBatch, cfg.BackfillCopiers)
		if err := withPostgres(ctx, cfg, func(dsn string) error {
			var err error
			rep.Backfill, rep.BackfillCopy, err = backfillVsCopy(ctx, cfg, dsn)
			return err
		}); err != nil {
			return rep, err
		}
	}
	// 5. SQLite: worker and raw ceiling.
	if !cfg.SkipSQLite {
		logf("sqlite: worker process applying %d events", cfg.Events)
		dsn := "sqlite:" + filepath.Join(dir, "worker.db")
		if _, err := b.consumer(ctx, "bench-sqlite"); err != nil {
			return rep, err
		}
		run, err := runWorker(ctx, cfg, b, "bench-sqlite", dsn, uint64(cfg.Events), time.Hour, 1)
		if err != nil {
			return rep, err
		}
		rep.SQLite = Measurement{Events: int(run.Events), Elapsed: run.Elapsed, PeakRSS: run.PeakRSS, CPU: run.CPU}
		logf("sqlite: raw ceiling, %d events", cfg.Events)
		elapsed, _, err := timedInto(ctx, "sqlite:"+filepath.Join(dir, "raw.db"), func(sink stores.Writer) (time.Duration, error) {
			return rawCeiling(ctx, cfg, sink)
		})
		if err != nil {
			return rep, err
		}
		rep.SQLiteRaw = Measurement{Events: cfg.Events, Elapsed: elapsed}
	}
	// 6. Peak memory and cost per event with a deep backlog.
	if cfg.Backlog > 0 {
		logf("publishing %d more events: a backlog of %d", cfg.Backlog-cfg.Events, cfg.Backlog)
		if err := b.fill(ctx, cfg.Events, cfg.Backlog-cfg.Events, cfg.Keys, cfg.Size); err != nil {
			return rep, err
		}
		logf("postgres: worker on the backlog for up to %v, sampling its peak RSS", cfg.BacklogDuration)
		rep.BacklogDepth = cfg.Backlog
		if rep.Backlog, err = workerInto(ctx, cfg, b, "bench-backlog", cfg.Backlog, cfg.BacklogDuration, 1); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// workerInto runs procs worker processes on a new consumer into a fresh
// schema until target events are acknowledged, or for at most limit (zero:
// an hour).
func workerInto(ctx context.Context, cfg Config, b *broker, consumer string, target int, limit time.Duration, procs int) (Measurement, error) {
	if limit == 0 {
		limit = time.Hour
	}
	var m Measurement
	err := withPostgres(ctx, cfg, func(dsn string) error {
		if _, err := b.consumer(ctx, consumer); err != nil {
			return err
		}
		run, err := runWorker(ctx, cfg, b, consumer, dsn, uint64(target), limit, procs)
		m = Measurement{Events: int(run.Events), Elapsed: run.Elapsed, PeakRSS: run.PeakRSS, CPU: run.CPU, DatabaseCPU: run.DatabaseCPU, BrokerCPU: run.BrokerCPU}
		return err
	})
	return m, err
}

// ceilingInto runs one ceiling measurement of cfg.Events writes into a
// fresh PostgreSQL schema.
func ceilingInto(ctx context.Context, cfg Config, run func(stores.Writer) (time.Duration, error)) (Measurement, error) {
	var m Measurement
	err := withPostgres(ctx, cfg, func(dsn string) error {
		elapsed, dbCPU, err := timedInto(ctx, dsn, run)
		m = Measurement{Events: cfg.Events, Elapsed: elapsed, DatabaseCPU: dbCPU}
		return err
	})
	return m, err
}

// timedInto opens the store at dsn, runs one ceiling measurement on it and
// returns its time and the local PostgreSQL server's CPU time meanwhile,
// read before the store's connections (and so their server processes)
// close.
func timedInto(ctx context.Context, dsn string, run func(stores.Writer) (time.Duration, error)) (time.Duration, time.Duration, error) {
	sink, err := all.Open(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer sink.Close()
	db := startDatabaseCPU()
	elapsed, err := run(sink)
	return elapsed, db(), err
}

// withPostgres runs fn with a DSN of a fresh schema, dropped afterwards.
func withPostgres(ctx context.Context, cfg Config, fn func(dsn string) error) error {
	dsn, drop, err := pgSchema(ctx, cfg.PostgresDSN)
	if err != nil {
		return err
	}
	defer drop()
	return fn(dsn)
}

// best returns the faster of two measurements; a zero one never wins.
func best(a, b Measurement) Measurement {
	if a.Events == 0 || b.PerSec() > a.PerSec() {
		return b
	}
	return a
}

// startDatabaseCPU starts measuring the local PostgreSQL server's CPU time;
// the returned function reports what it used since (zero when it is not on
// this host).
func startDatabaseCPU() func() time.Duration { return procstat.StartCommandCPU("postgres") }
