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
	// BrokerCPU is the benchmark process's CPU time during a worker run:
	// the embedded NATS server's share of the two cores (worker runs only).
	BrokerCPU time.Duration `json:"broker_cpu_ns,omitempty"`
}

// perEvent divides d over the measurement's events.
func (m Measurement) perEvent(d time.Duration) time.Duration {
	if m.Events == 0 {
		return 0
	}
	return d / time.Duration(m.Events)
}

// DatabaseCPUPerEvent is the local database server's CPU time per event.
func (m Measurement) DatabaseCPUPerEvent() time.Duration { return m.perEvent(m.DatabaseCPU) }

// BrokerCPUPerEvent is the embedded NATS server's CPU time per event.
func (m Measurement) BrokerCPUPerEvent() time.Duration { return m.perEvent(m.BrokerCPU) }

// CPUPerEvent is the worker's own CPU time per event.
func (m Measurement) CPUPerEvent() time.Duration { return m.perEvent(m.CPU) }

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
	// PostgresNATSCeiling is the raw ceiling's writes with each message
	// pulled from the stream and acknowledged after its batch commits: the
	// most a JetStream-fed worker can reach on this host.
	PostgresNATSCeiling Measurement `json:"postgres_nats_ceiling"`
	SQLite              Measurement `json:"sqlite_worker"`
	SQLiteRaw           Measurement `json:"sqlite_raw_ceiling"`
	// Backlog is the worker's run on the big backlog; Backlog.Events is what
	// it applied within the time limit, BacklogDepth the stream's depth.
	Backlog      Measurement `json:"backlog_worker"`
	BacklogDepth int         `json:"backlog_depth"`
	// Scale is one run per number of worker processes sharing a consumer.
	Scale []ScaleRun `json:"scale,omitempty"`
	// Backfill is the backfill's writes into PostgreSQL, BackfillCopy a raw
	// COPY of the same rows, in the same run.
	Backfill     Measurement `json:"backfill"`
	BackfillCopy Measurement `json:"backfill_raw_copy"`
}

// ScaleRun is the run of Processes worker processes on one consumer.
type ScaleRun struct {
	Processes int `json:"processes"`
	Measurement
}

// ScaleRatio is the lowest rate of the multi-process runs over the
// one-process run of the scale measurement (1 without one).
func (r Report) ScaleRatio() float64 {
	var one float64
	for _, s := range r.Scale {
		if s.Processes == 1 {
			one = s.PerSec()
		}
	}
	worst := 1.0
	if one == 0 {
		return worst
	}
	for _, s := range r.Scale {
		if s.Processes > 1 {
			worst = min(worst, s.PerSec()/one)
		}
	}
	return worst
}

// BackfillRatio is the backfill's write rate over the raw COPY's.
func (r Report) BackfillRatio() float64 { return ratio(r.Backfill.PerSec(), r.BackfillCopy.PerSec()) }

// BacklogCostRatio is the worker's CPU per event on the deep backlog over
// its CPU per event in the main run.
func (r Report) BacklogCostRatio() float64 {
	return ratio(float64(r.Backlog.CPUPerEvent()), float64(r.Postgres.CPUPerEvent()))
}

// PerMessageRatio is the worker's rate over the per-message consumer's.
func (r Report) PerMessageRatio() float64 {
	return ratio(r.Postgres.PerSec(), r.PostgresPerMessage.PerSec())
}

// RawRatio is the worker's rate over the raw ceiling's, on PostgreSQL.
func (r Report) RawRatio() float64 { return ratio(r.Postgres.PerSec(), r.PostgresRaw.PerSec()) }

// NATSCeilingRatio is the worker's rate over the NATS ceiling's: what the
// worker's own work (decoding, validating, preparing) costs.
func (r Report) NATSCeilingRatio() float64 {
	return ratio(r.Postgres.PerSec(), r.PostgresNATSCeiling.PerSec())
}

// NATSOverRawRatio is the NATS ceiling's rate over the raw ceiling's: what
// delivering and acknowledging every message costs on the same cores,
// and so the highest worker ÷ raw ceiling any worker can reach here.
func (r Report) NATSOverRawRatio() float64 {
	return ratio(r.PostgresNATSCeiling.PerSec(), r.PostgresRaw.PerSec())
}

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
	met := r.Postgres.PerSec() >= TargetEventsPerSec && r.PerMessageRatio() >= TargetPerMessageRatio &&
		r.RawRatio() >= TargetRawCeilingRatio && r.PeakRSSMegabytes() <= TargetPeakRSSMegabytes &&
		r.Postgres.CPUPerEvent() <= TargetWorkerCPUPerEvent && r.ScaleRatio() >= TargetScaleRatio
	if r.Backfill.Events > 0 {
		met = met && r.BackfillRatio() >= TargetBackfillCopyRatio
	}
	if r.BacklogDepth > 0 {
		met = met && r.BacklogCostRatio() <= TargetBacklogCostRatio
	}
	return met
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
	fmt.Fprintf(w, "postgres worker, raw ceiling and NATS ceiling: best of %d alternating rounds each\n\n", r.Rounds)
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
	if r.PostgresNATSCeiling.Events > 0 {
		row("postgres: NATS ceiling (pull and ack, no decode)", r.PostgresNATSCeiling,
			fmt.Sprintf("worker %.2fx; %.2fx raw", r.NATSCeilingRatio(), r.NATSOverRawRatio()), "", "")
	}
	if r.BacklogDepth > 0 {
		row(fmt.Sprintf("postgres: worker, %d backlog", r.BacklogDepth), r.Backlog, fmt.Sprintf("peak RSS %.0f MiB", r.PeakRSSMegabytes()),
			fmt.Sprintf("<= %d MiB", TargetPeakRSSMegabytes), verdict(r.PeakRSSMegabytes() <= TargetPeakRSSMegabytes))
	}
	fmt.Fprintf(tw, "postgres: worker CPU per event (main run)\t\t\t\t%v (%.0f%% of one core)\t<= %v\t%s\n",
		r.Postgres.CPUPerEvent(), 100*ratio(r.Postgres.CPU.Seconds(), r.Postgres.Elapsed.Seconds()),
		TargetWorkerCPUPerEvent, verdict(r.Postgres.CPUPerEvent() <= TargetWorkerCPUPerEvent))
	if r.BacklogDepth > 0 {
		fmt.Fprintf(tw, "postgres: worker CPU per event, %d backlog\t\t\t\t%v, %.2fx the main run's\t<= %.2fx\t%s\n",
			r.BacklogDepth, r.Backlog.CPUPerEvent(), r.BacklogCostRatio(), TargetBacklogCostRatio,
			verdict(r.BacklogCostRatio() <= TargetBacklogCostRatio))
	}
	for _, sc := range r.Scale {
		figure, target, ok := fmt.Sprintf("CPU %v/event (broker %v, db %v)", sc.CPUPerEvent(), sc.BrokerCPUPerEvent(), sc.DatabaseCPUPerEvent()), "", ""
		if sc.Processes > 1 {
			target = fmt.Sprintf(">= %.1fx 1 process", TargetScaleRatio)
			ok = verdict(r.ScaleRatio() >= TargetScaleRatio)
		}
		row(fmt.Sprintf("postgres: %d worker processes, one consumer", sc.Processes), sc.Measurement, figure, target, ok)
	}
	if r.Backfill.Events > 0 {
		row("postgres: raw COPY (backfill's rows)", r.BackfillCopy, fmt.Sprintf("db CPU %v/row", r.BackfillCopy.DatabaseCPUPerEvent()), "", "")
		row("postgres: backfill writes", r.Backfill, fmt.Sprintf("%.2fx COPY, db CPU %v/row", r.BackfillRatio(), r.Backfill.DatabaseCPUPerEvent()),
			fmt.Sprintf(">= %.1fx", TargetBackfillCopyRatio), verdict(r.BackfillRatio() >= TargetBackfillCopyRatio))
	}
	if r.Postgres.DatabaseCPU > 0 && r.PostgresRaw.DatabaseCPU > 0 {
		// Every postgres process of the host counts, other sessions too.
		fmt.Fprintf(tw, "postgres: local server CPU per event\t\t\t\tworker %v, raw %v, NATS ceiling %v (all sessions)\t\t\n",
			r.Postgres.DatabaseCPUPerEvent(), r.PostgresRaw.DatabaseCPUPerEvent(), r.PostgresNATSCeiling.DatabaseCPUPerEvent())
	}
	if r.Postgres.BrokerCPU > 0 {
		// The raw ceiling has no broker: this is the pipeline's extra share
		// of the same cores besides the worker's own CPU.
		fmt.Fprintf(tw, "postgres: broker CPU per event (embedded NATS)\t\t\t\tworker run %v\t\t\n", r.Postgres.BrokerCPUPerEvent())
	}
	fmt.Fprintf(tw, "postgres: worker process (main run)\t\t\t\tpeak RSS %.0f MiB\t\t\n", float64(r.Postgres.PeakRSS)/(1<<20))
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
