package migrator

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// ProgressSnapshot is one progress reading of a copy or a verify.
type ProgressSnapshot struct {
	// Task names the work, such as "backfill" or "verify".
	Task string
	// Done and Total count rows; Total is an estimate that may grow while a
	// backfill still plans.
	Done, Total int64
	// Rate is rows per second over the last interval.
	Rate float64
	// Detail is a short free text, such as the entity being worked on or
	// "paused".
	Detail string
}

// ETA estimates the time left, or 0 when unknown.
func (s ProgressSnapshot) ETA() time.Duration {
	if s.Rate <= 0 || s.Total <= s.Done {
		return 0
	}
	return time.Duration(float64(s.Total-s.Done) / s.Rate * float64(time.Second)).Round(time.Second)
}

// Progress shows progress: a redrawn bar with rows/s and ETA when out is a
// terminal, structured log lines (at most one per interval) otherwise. It
// is safe for concurrent use.
type Progress struct {
	out      io.Writer
	tty      bool
	log      *slog.Logger
	interval time.Duration

	metrics *ProgressMetrics // nil: no metrics

	mu       sync.Mutex
	lastLine time.Time
	drawn    bool
}

// WithMetrics makes p also export every snapshot, and verify's findings, as
// Prometheus metrics. It returns p.
func (p *Progress) WithMetrics(m *ProgressMetrics) *Progress {
	p.metrics = m
	return p
}

// finding counts one verify finding in the metrics, if any.
func (p *Progress) finding(kind FindingKind) {
	if p != nil {
		p.metrics.ObserveFinding(kind)
	}
}

// NewProgress returns a Progress writing to out. A bar is drawn only when
// out is an *os.File on a terminal; otherwise lines go to log every
// interval (zero means 10 s).
func NewProgress(out io.Writer, log *slog.Logger, interval time.Duration) *Progress {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	tty := false
	if f, ok := out.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Progress{out: out, tty: tty, log: log, interval: interval}
}

// Report shows one snapshot.
func (p *Progress) Report(s ProgressSnapshot) {
	p.metrics.Observe(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.out, "\r\033[K%s", Bar(s, 30))
		p.drawn = true
		return
	}
	if time.Since(p.lastLine) < p.interval {
		return
	}
	p.lastLine = time.Now()
	p.log.Info(s.Task+" progress", "rows", s.Done, "total_estimate", s.Total, "percent", percent(s.Done, s.Total),
		"rows_per_second", int64(s.Rate), "eta", s.ETA().String(), "detail", s.Detail)
}

// Done ends the bar's line on a terminal.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.out)
		p.drawn = false
	}
}

func percent(done, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(min(done, total)) * 100 / float64(total)
}

// Bar renders a snapshot as one line: a bar of width cells, the percentage,
// the counts, rows/s, the ETA and the detail.
func Bar(s ProgressSnapshot, width int) string {
	frac := percent(s.Done, s.Total) / 100
	full := int(frac * float64(width))
	bar := strings.Repeat("█", full) + strings.Repeat("░", width-full)
	eta := "--"
	if d := s.ETA(); d > 0 {
		eta = d.String()
	}
	line := fmt.Sprintf("%s [%s] %5.1f%% %d/%d rows  %.0f rows/s  ETA %s", s.Task, bar, frac*100, s.Done, s.Total, s.Rate, eta)
	if s.Detail != "" {
		line += "  " + s.Detail
	}
	return line
}

// rateMeter turns a growing counter into rows per second, smoothed.
type rateMeter struct {
	last     int64
	lastTime time.Time
	rate     float64
}

func (m *rateMeter) update(now time.Time, count int64) float64 {
	if m.lastTime.IsZero() {
		m.last, m.lastTime = count, now
		return 0
	}
	dt := now.Sub(m.lastTime).Seconds()
	if dt <= 0 {
		return m.rate
	}
	inst := float64(count-m.last) / dt
	if m.rate == 0 {
		m.rate = inst
	} else {
		m.rate = 0.7*m.rate + 0.3*inst
	}
	m.last, m.lastTime = count, now
	return m.rate
}
