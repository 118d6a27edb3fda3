package benchpipeline

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets are the figures the pipeline must reach on a 2-core machine.
const (
	TargetEventsPerSec     = 15_000
	TargetPerMessageRatio  = 15.0
	TargetRawCeilingRatio  = 0.7
	TargetPeakRSSMegabytes = 150
	// TargetWorkerCPUPerEvent bounds the worker process's own CPU time
	// (user + system) per event.
	TargetWorkerCPUPerEvent = 8 * time.Microsecond
	// TargetBackfillCopyRatio is the backfill's write rate over a raw COPY.
	TargetBackfillCopyRatio = 0.7
	// TargetScaleRatio: adding worker processes must not lower throughput;
	// every multi-process run reaches this share of the one-process rate
	// of the same scale measurement (the margin is run-to-run noise).
	TargetScaleRatio = 0.9
	// TargetBacklogCostRatio: the worker's CPU per event on the deep
	// backlog stays within this factor of the main run's (flat cost).
	TargetBacklogCostRatio = 1.25
)

// Config is one benchmark run. Zero fields take the defaults listed.
type Config struct {
	// PostgresDSN is the server to measure against; each measurement gets a
	// fresh schema in it, dropped at the end. Required.
	PostgresDSN string
	// WorkerBinary is the switchyard binary run as the worker process.
	// Required.
	WorkerBinary string
	// Events is the backlog the worker applies; default 200,000.
	Events int
	// Keys is the number of distinct records; default 50,000.
	Keys int
	// Size is the approximate size of one event in bytes; default 300.
	Size int
	// Backlog is the stream depth for the memory measurement; default
	// 1,000,000. Zero after defaults (negative given) skips it.
	Backlog int
	// BacklogDuration bounds how long the worker runs on the big backlog
	// while its peak RSS is sampled; default 20 s.
	BacklogDuration time.Duration
	// PerMessageEvents is how many events the one-transaction-per-message
	// consumer applies (its rate is what matters); default 10,000.
	PerMessageEvents int
	// BatchSize and Concurrency are passed to the worker and used by the raw
	// ceiling; defaults 500 and 2.
	BatchSize, Concurrency int
	// Rounds is how many times the PostgreSQL worker run and the raw
	// ceiling are measured, alternating; the best of each counts. Default 2.
	Rounds int
	// SkipSQLite skips the SQLite run.
	SkipSQLite bool
	// Scale lists the numbers of worker processes sharing one consumer for
	// the scale measurement; default 1, 2 and 4. Each runs on a new
	// consumer over the Events backlog. An empty list after defaults (a
	// single 0 given) skips it.
	Scale []int
	// BackfillRows is the number of rows of the backfill-against-COPY
	// measurement; default Events. Negative skips it.
	BackfillRows int
	// BackfillBatch and BackfillCopiers shape the backfill's writes (rows
	// per Apply, calls in flight); defaults 5,000 and 4, as the backfill
	// is run against PostgreSQL.
	BackfillBatch, BackfillCopiers int
	// Dir holds the embedded server's store and the SQLite file; default a
	// temporary folder removed at the end.
	Dir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Events == 0 {
		c.Events = 200_000
	}
	if c.Keys == 0 {
		c.Keys = 50_000
	}
	if c.Size == 0 {
		c.Size = 300
	}
	switch {
	case c.Backlog == 0:
		c.Backlog = 1_000_000
	case c.Backlog < 0:
		c.Backlog = 0
	}
	if c.BacklogDuration == 0 {
		c.BacklogDuration = 20 * time.Second
	}
	if c.PerMessageEvents == 0 {
		c.PerMessageEvents = 10_000
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2
	}
	if c.Rounds == 0 {
		c.Rounds = 2
	}
	switch {
	case c.Scale == nil:
		c.Scale = []int{1, 2, 4}
	case len(c.Scale) == 1 && c.Scale[0] == 0:
		c.Scale = []int{}
	}
	switch {
	case c.BackfillRows == 0:
		c.BackfillRows = c.Events
	case c.BackfillRows < 0:
		c.BackfillRows = 0
	}
	if c.BackfillBatch == 0 {
		c.BackfillBatch = 5000
	}
	if c.BackfillCopiers == 0 {
		c.BackfillCopiers = 4
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Validate checks c after defaults and names the first wrong field.
func (c Config) Validate() error {
	switch {
	case c.PostgresDSN == "":
		return fmt.Errorf("bench: a PostgreSQL DSN is required")
	case c.WorkerBinary == "":
		return fmt.Errorf("bench: the worker binary is required")
	case c.Events < 1:
		return fmt.Errorf("bench: events %d must be positive", c.Events)
	case c.Keys < 1 || c.Keys > c.Events:
		return fmt.Errorf("bench: keys %d must be between 1 and the number of events (%d)", c.Keys, c.Events)
	case c.Size < 200 || c.Size > 1<<20:
		return fmt.Errorf("bench: size %d must be between 200 bytes (the envelope) and 1 MiB", c.Size)
	case c.Backlog != 0 && c.Backlog < c.Events:
		return fmt.Errorf("bench: backlog %d must be at least events (%d)", c.Backlog, c.Events)
	case c.PerMessageEvents < 1 || c.PerMessageEvents > c.Events:
		return fmt.Errorf("bench: per-message events %d must be between 1 and events (%d)", c.PerMessageEvents, c.Events)
	case c.Rounds < 1:
		return fmt.Errorf("bench: rounds %d must be positive", c.Rounds)
	case c.BatchSize < 1 || c.Concurrency < 1:
		return fmt.Errorf("bench: batch size and concurrency must be positive")
	case c.BackfillBatch < 1 || c.BackfillCopiers < 1:
		return fmt.Errorf("bench: backfill batch and copiers must be positive")
	}
	for i, n := range c.Scale {
		if n < 1 || n > 64 {
			return fmt.Errorf("bench: scale %d must be between 1 and 64 worker processes", n)
		}
		if slices.Contains(c.Scale[:i], n) {
			return fmt.Errorf("bench: scale lists %d worker processes twice", n)
		}
	}
	return nil
}

// ParseScale parses a comma-separated list of worker process counts, such
// as "1,2,4" (0 skips the scale measurement).
func ParseScale(s string) ([]int, error) {
	var scale []int
	for _, field := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return nil, fmt.Errorf("%q: want comma-separated numbers of processes", s)
		}
		scale = append(scale, n)
	}
	return scale, nil
}
