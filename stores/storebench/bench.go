package storebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// Config says what to measure. Zero fields take the defaults below.
type Config struct {
	// Rows is the number of rows each phase writes or reads (default 100,000).
	Rows int
	// Batch is the number of writes per Apply call (default 500).
	Batch int
	// Entity is the table of the live writes; the backfill phase writes to
	// Entity+"_fill". Both must be empty: Run refuses to measure on top of
	// existing rows. Default: "bench_" plus the start time.
	Entity string
	// ScanChunk is the Limit of each Scan call (default 1,000).
	ScanChunk int
	// ChecksumChunk is the Limit of each Checksum call (default 10,000).
	ChecksumChunk int
	// Concurrency is the number of Apply calls in flight in the write phases,
	// like several workers sharing a consumer (default 1).
	Concurrency int
}

func (c Config) withDefaults(now time.Time) Config {
	if c.Rows <= 0 {
		c.Rows = 100_000
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Entity == "" {
		c.Entity = "bench_" + now.UTC().Format("20060102_150405")
	}
	if c.ScanChunk <= 0 {
		c.ScanChunk = 1000
	}
	if c.ChecksumChunk <= 0 {
		c.ChecksumChunk = 10_000
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 1
	}
	return c
}

// Validate checks c as the bench-store command gives it, every count set
// (zero is refused here, not defaulted), and names the command's flag that
// is wrong.
func (c Config) Validate() error {
	switch {
	case c.Rows < 1:
		return errors.New("--rows must be at least 1")
	case c.Batch < 1:
		return errors.New("--batch must be at least 1")
	case c.ScanChunk < 1 || c.ChecksumChunk < 1 || c.Concurrency < 1:
		return errors.New("--scan-chunk, --checksum-chunk and --concurrency must be at least 1")
	case c.Entity != "" && (len(c.Entity) > 58 || stores.Validate([]stores.Write{{Entity: c.Entity + "_fill", Key: "k", Data: []byte(`{}`)}}) != nil):
		return fmt.Errorf("--entity %q must match ^[a-z][a-z0-9_]{0,57}$", c.Entity)
	}
	return nil
}

// ErrNotEmpty: the benchmark's tables already hold rows, which would skew
// every figure; choose another entity.
var ErrNotEmpty = errors.New("benchmark table is not empty")

// Phase is the measurement of one phase.
type Phase struct {
	Name    string
	Rows    int
	Calls   int
	Elapsed time.Duration
}

// RowsPerSecond is the phase's throughput.
func (p Phase) RowsPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Rows) / p.Elapsed.Seconds()
}

// Report is the result of Run.
type Report struct {
	Config Config
	Phases []Phase
}

// Print writes the report as an aligned table.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "entity %s, %d rows, batches of %d (%d in flight), scan chunks of %d, checksum chunks of %d\n",
		r.Config.Entity, r.Config.Rows, r.Config.Batch, r.Config.Concurrency, r.Config.ScanChunk, r.Config.ChecksumChunk)
	fmt.Fprintf(w, "%-22s %10s %8s %10s %12s\n", "phase", "rows", "calls", "seconds", "rows/s")
	for _, p := range r.Phases {
		fmt.Fprintf(w, "%-22s %10d %8d %10.2f %12.0f\n", p.Name, p.Rows, p.Calls, p.Elapsed.Seconds(), p.RowsPerSecond())
	}
}

// Run measures a store, phase by phase:
//
//   - apply insert: Rows new keys as live writes with event ids, Batch per
//     call, Concurrency calls in flight;
//   - apply update: the same keys at a higher version (the fence lets all pass);
//   - apply redelivered: the same writes again (the ledger drops all);
//   - backfill: Rows IfAbsent writes into Entity+"_fill";
//   - scan: the live table in Scan chunks of ScanChunk;
//   - checksum: the live table in Checksum chunks of ChecksumChunk.
//
// Every phase checks its outcome (rows applied, skipped, scanned, summed), so
// a store that drops writes cannot report a good figure. It fails with
// ErrNotEmpty when the tables already hold rows, and with the store's error
// when a call fails.
func Run(ctx context.Context, st stores.Store, cfg Config) (Report, error) {
	cfg = cfg.withDefaults(time.Now())
	rep := Report{Config: cfg}
	fill := cfg.Entity + "_fill"
	for _, entity := range []string{cfg.Entity, fill} {
		recs, err := st.Scan(ctx, entity, stores.Range{Limit: 1})
		if err != nil {
			return rep, fmt.Errorf("check %s is empty: %w", entity, err)
		}
		if len(recs) > 0 {
			return rep, fmt.Errorf("entity %s: %w; choose another entity", entity, ErrNotEmpty)
		}
	}
	applyPhase := func(name, entity string, version int64, ids, ifAbsent bool, want stores.ApplyResult) error {
		p, got, err := applyConcurrently(ctx, st, cfg, name, entity, version, ids, ifAbsent)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s: store reported %+v, want %+v", name, got, want)
		}
		rep.Phases = append(rep.Phases, p)
		return nil
	}
	n := cfg.Rows
	if err := applyPhase("apply insert", cfg.Entity, 1, true, false, stores.ApplyResult{Applied: n}); err != nil {
		return rep, err
	}
	if err := applyPhase("apply update", cfg.Entity, 2, true, false, stores.ApplyResult{Applied: n}); err != nil {
		return rep, err
	}
	if err := applyPhase("apply redelivered", cfg.Entity, 2, true, false, stores.ApplyResult{Duplicates: n}); err != nil {
		return rep, err
	}
	if err := applyPhase("backfill (if absent)", fill, 1, false, true, stores.ApplyResult{Applied: n}); err != nil {
		return rep, err
	}

	scan := Phase{Name: "scan"}
	for r := (stores.Range{Limit: cfg.ScanChunk}); ; {
		start := time.Now()
		recs, err := st.Scan(ctx, cfg.Entity, r)
		scan.Elapsed += time.Since(start)
		if err != nil {
			return rep, fmt.Errorf("scan: %w", err)
		}
		scan.Calls++
		scan.Rows += len(recs)
		if len(recs) < cfg.ScanChunk {
			break
		}
		r.After = recs[len(recs)-1].Key
	}
	if scan.Rows != n {
		return rep, fmt.Errorf("scan: read %d rows, want %d", scan.Rows, n)
	}
	rep.Phases = append(rep.Phases, scan)

	sum := Phase{Name: "checksum"}
	for r := (stores.Range{Limit: cfg.ChecksumChunk}); ; {
		start := time.Now()
		c, err := st.Checksum(ctx, cfg.Entity, r)
		sum.Elapsed += time.Since(start)
		if err != nil {
			return rep, fmt.Errorf("checksum: %w", err)
		}
		sum.Calls++
		sum.Rows += int(c.Count)
		if c.Count < int64(cfg.ChecksumChunk) {
			break
		}
		r.After = c.LastKey
	}
	if sum.Rows != n {
		return rep, fmt.Errorf("checksum: summed %d rows, want %d", sum.Rows, n)
	}
	rep.Phases = append(rep.Phases, sum)
	return rep, nil
}

// applyConcurrently applies Rows writes of one phase in batches, with
// cfg.Concurrency calls in flight, and measures the wall time of the phase.
// The writes are generated before the clock starts.
func applyConcurrently(ctx context.Context, st stores.Store, cfg Config, name, entity string, version int64, ids, ifAbsent bool) (Phase, stores.ApplyResult, error) {
	p := Phase{Name: name}
	var batches [][]stores.Write
	for from := 0; from < cfg.Rows; from += cfg.Batch {
		batches = append(batches, Writes(entity, from, min(cfg.Batch, cfg.Rows-from), version, ids, ifAbsent))
	}
	next := make(chan []stores.Write)
	results := make(chan stores.ApplyResult, len(batches))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for writes := range next {
				res, err := st.Apply(ctx, writes)
				if err != nil {
					cancel(fmt.Errorf("%s: %w", name, err))
					return
				}
				results <- res
			}
		})
	}
feed:
	for _, b := range batches {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	p.Elapsed = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return p, stores.ApplyResult{}, err
	}
	close(results)
	var total stores.ApplyResult
	for res := range results {
		total.Add(res)
	}
	p.Rows, p.Calls = cfg.Rows, len(batches)
	return p, total, nil
}
