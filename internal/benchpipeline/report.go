package benchpipeline

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Measurement is one timed run.
type Measurement struct {
	Events  int           `json:"events"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// PeakRSS is the worker process's VmHWM in bytes (worker runs only).
	PeakRSS uint64 `json:"peak_rss_bytes,omitempty"`
	// CPU is the worker process's user and system time (worker runs only):
	// what the worker itself costs, apart from the database and the broker.
	CPU time.Duration `json:"cpu_ns,omitempty"`
	// DatabaseCPU is the CPU time the local PostgreSQL server spent during
	// the run (zero when it runs on another host).
	DatabaseCPU time.Duration `json:"database_cpu_ns,omitempty"`
}

// DatabaseCPUPerEvent is the local database server's CPU time per event.
func (m Measurement) DatabaseCPUPerEvent() time.Duration {
	if m.Events == 0 {
		return 0
	}
	return m.DatabaseCPU / time.Duration(m.Events)
}

// CPUPerEvent is the worker's own CPU time per event.
func (m Measurement) CPUPerEvent() time.Duration {
	if m.Events == 0 {
		return 0
	}
	return m.CPU / time.Duration(m.Events)
}

// PerSec is the rate of the run.
func (m Measurement) PerSec() float64 {
	if m.Elapsed <= 0 {
		return 0
	}
	return float64(m.Events) / m.Elapsed.Seconds()
}

// Report is what one benchmark run measured.
type Report struct {
	Events      int `json:"events"`
	Keys        int `json:"keys"`
	Size        int `json:"size"`
	BatchSize   int `json:"batch_size"`
	Concurrency int `json:"concurrency"`
	Rounds      int `json:"rounds"`
	CPUs        int `json:"cpus"`

	Postgres           Measurement `json:"postgres_worker"`
	PostgresPerMessage Measurement `json:"postgres_per_message"`
	PostgresRaw        Measurement `json:"postgres_raw_ceiling"`
	SQLite             Measurement `json:"sqlite_worker"`
	SQLiteRaw          Measurement `json:"sqlite_raw_ceiling"`
	// Backlog is the worker's run on the big backlog; Backlog.Events is what
	// it applied within the time limit, BacklogDepth the stream's depth.
	Backlog      Measurement `json:"backlog_worker"`
	BacklogDepth int         `json:"backlog_depth"`
}

// PerMessageRatio is the worker's rate over the per-message consumer's.
func (r Report) PerMessageRatio() float64 {
	return ratio(r.Postgres.PerSec(), r.PostgresPerMessage.PerSec())
}

// RawRatio is the worker's rate over the raw ceiling's, on PostgreSQL.
func (r Report) RawRatio() float64 { return ratio(r.Postgres.PerSec(), r.PostgresRaw.PerSec()) }

// SQLiteRawRatio is the worker's rate over the raw ceiling's, on SQLite.
func (r Report) SQLiteRawRatio() float64 { return ratio(r.SQLite.PerSec(), r.SQLiteRaw.PerSec()) }

// PeakRSSMegabytes is the worker's peak RSS on the big backlog (or, without
// one, on the main run), in MiB.
func (r Report) PeakRSSMegabytes() float64 {
	rss := r.Backlog.PeakRSS
	if r.BacklogDepth == 0 {
		rss = r.Postgres.PeakRSS
	}
	return float64(rss) / (1 << 20)
}

// Met reports whether every target was reached.
func (r Report) Met() bool {
	return r.Postgres.PerSec() >= TargetEventsPerSec && r.PerMessageRatio() >= TargetPerMessageRatio &&
		r.RawRatio() >= TargetRawCeilingRatio && r.PeakRSSMegabytes() <= TargetPeakRSSMegabytes
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// Print writes the report as a table with the targets.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "pipeline benchmark: %d events of ~%d bytes over %d keys; worker batch %d, concurrency %d; %d CPUs (GOMAXPROCS %d)\n",
		r.Events, r.Size, r.Keys, r.BatchSize, r.Concurrency, r.CPUs, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "postgres worker and raw ceiling: best of %d alternating rounds each\n\n", r.Rounds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tevents\tseconds\tevents/s\tfigure\ttarget\t")
	row := func(name string, m Measurement, figure, target, ok string) {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%s\t%s\t%s\n", name, m.Events, m.Elapsed.Seconds(), m.PerSec(), figure, target, ok)
	}
	row("postgres: worker (1 process)", r.Postgres, fmt.Sprintf("%.0f ev/s", r.Postgres.PerSec()),
		fmt.Sprintf(">= %d ev/s", TargetEventsPerSec), verdict(r.Postgres.PerSec() >= TargetEventsPerSec))
	row("postgres: one upsert per message", r.PostgresPerMessage, fmt.Sprintf("worker %.1fx", r.PerMessageRatio()),
		fmt.Sprintf(">= %.0fx", TargetPerMessageRatio), verdict(r.PerMessageRatio() >= TargetPerMessageRatio))
	row("postgres: raw ceiling (no NATS)", r.PostgresRaw, fmt.Sprintf("worker %.2fx", r.RawRatio()),
		fmt.Sprintf(">= %.1fx", TargetRawCeilingRatio), verdict(r.RawRatio() >= TargetRawCeilingRatio))
	if r.BacklogDepth > 0 {
		row(fmt.Sprintf("postgres: worker, %d backlog", r.BacklogDepth), r.Backlog, fmt.Sprintf("peak RSS %.0f MiB", r.PeakRSSMegabytes()),
			fmt.Sprintf("<= %d MiB", TargetPeakRSSMegabytes), verdict(r.PeakRSSMegabytes() <= TargetPeakRSSMegabytes))
	}
	if r.Postgres.DatabaseCPU > 0 && r.PostgresRaw.DatabaseCPU > 0 {
		// Every postgres process of the host counts, other sessions too.
		fmt.Fprintf(tw, "postgres: local server CPU per event\t\t\t\tworker %v, raw %v (all sessions)\t\t\n",
			r.Postgres.DatabaseCPUPerEvent(), r.PostgresRaw.DatabaseCPUPerEvent())
	}
	fmt.Fprintf(tw, "postgres: worker process (main run)\t\t\t\tpeak RSS %.0f MiB, CPU %v/event (%.0f%% of one core)\t\t\n",
		float64(r.Postgres.PeakRSS)/(1<<20), r.Postgres.CPUPerEvent(), 100*ratio(r.Postgres.CPU.Seconds(), r.Postgres.Elapsed.Seconds()))
	if r.SQLite.Events > 0 {
		row("sqlite: worker (1 process)", r.SQLite, fmt.Sprintf("peak RSS %.0f MiB, CPU %v/event", float64(r.SQLite.PeakRSS)/(1<<20), r.SQLite.CPUPerEvent()), "", "")
		row("sqlite: raw ceiling (no NATS)", r.SQLiteRaw, fmt.Sprintf("worker %.2fx", r.SQLiteRawRatio()), "", "")
	}
	tw.Flush()
	fmt.Fprintf(w, "\nload average at the end: %s\nall targets met: %v\n", loadAverage(), r.Met())
}

// loadAverage returns the 1, 5 and 15 minute load averages, so a reader can
// tell a quiet machine from a busy one.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
