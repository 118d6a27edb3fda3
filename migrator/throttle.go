package migrator

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/internal/lifecycle"
)

// LagProbe returns the target subscription's lag (events not yet committed).
type LagProbe func(ctx context.Context) (uint64, error)

// ThrottleConfig sets the limits of a Throttle.
type ThrottleConfig struct {
	// MaxRate caps rows per second; 0 means no cap. The backfill control
	// in the state bucket overrides it while running.
	MaxRate int
	// MaxLag backs the copy off while the target subscription's lag is above
	// it, so the live stream keeps priority; 0 disables the check.
	MaxLag uint64
	// Lag reads the lag; nil disables the check.
	Lag LagProbe
	// MaxLatency backs the copy off while the smoothed duration of one
	// batch write is above it; 0 disables the check.
	MaxLatency time.Duration
	// Burst is the most rows one Wait asks for (the batch size).
	Burst int
	// Log receives back-off and pause messages; nil discards them.
	Log *slog.Logger
}

// Throttle paces a copy: pause, a rows-per-second token bucket, and an
// automatic back-off while the target is busy. One Throttle is shared by
// every copier goroutine of a process; it is safe for concurrent use.
type Throttle struct {
	cfg     ThrottleConfig
	limiter *rate.Limiter
	log     *slog.Logger

	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed when paused turns false

	latencyNanos  atomic.Int64 // EWMA of batch write durations
	latencyStreak atomic.Int64 // consecutive batch writes above MaxLatency

	lagMu      sync.Mutex
	lagChecked time.Time
	lag        uint64

	backoffs atomic.Int64
}

// NewThrottle returns a running (unpaused) throttle.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.Burst <= 0 {
		cfg.Burst = 1000
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Throttle{cfg: cfg, log: log, limiter: rate.NewLimiter(rate.Inf, cfg.Burst), resumed: make(chan struct{})}
	close(t.resumed)
	t.SetRate(cfg.MaxRate)
	return t
}

// SetRate changes the cap in rows per second; 0 removes it.
func (t *Throttle) SetRate(rowsPerSecond int) {
	if rowsPerSecond <= 0 {
		t.limiter.SetLimit(rate.Inf)
		return
	}
	t.limiter.SetLimit(rate.Limit(rowsPerSecond))
}

// Rate is the current cap (0 for none).
func (t *Throttle) Rate() int {
	l := t.limiter.Limit()
	if l == rate.Inf {
		return 0
	}
	return int(l)
}

// SetPaused pauses or resumes every Wait.
func (t *Throttle) SetPaused(paused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if paused == t.paused {
		return
	}
	t.paused = paused
	if paused {
		t.resumed = make(chan struct{})
		t.log.Info("backfill paused; resume with: switchyard backfill resume")
	} else {
		close(t.resumed)
		t.log.Info("backfill resumed")
	}
}

// Paused reports whether the throttle is paused.
func (t *Throttle) Paused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused
}

// Apply takes the pause and rate of a backfill control.
func (t *Throttle) Apply(c BackfillControl) {
	t.SetRate(c.MaxRate)
	t.SetPaused(c.Paused)
}

// Follow applies every control change until ctx ends or the channel closes.
func (t *Throttle) Follow(ctx context.Context, changes <-chan BackfillControl) {
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			t.Apply(c)
		}
	}
}

// ObserveWrite records how long one batch write took.
func (t *Throttle) ObserveWrite(d time.Duration) {
	if t.cfg.MaxLatency > 0 && d > t.cfg.MaxLatency {
		t.latencyStreak.Add(1)
	} else {
		t.latencyStreak.Store(0)
	}
	for {
		old := t.latencyNanos.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/5 // EWMA, alpha 0.2
		}
		if t.latencyNanos.CompareAndSwap(old, next) {
			return
		}
	}
}

// Latency is the smoothed batch write duration.
func (t *Throttle) Latency() time.Duration { return time.Duration(t.latencyNanos.Load()) }

// Backoffs counts the waits caused by lag or latency.
func (t *Throttle) Backoffs() int64 { return t.backoffs.Load() }

// Wait blocks until rows may be written: while paused, while the target is
// over a back-off threshold (checked again with growing pauses up to 5 s),
// then for rows tokens of the rate cap (in steps of the burst). It returns
// ctx's error when ctx ends first.
func (t *Throttle) Wait(ctx context.Context, rows int) error {
	if err := t.waitResumed(ctx); err != nil {
		return err
	}
	if err := t.waitBackoff(ctx); err != nil {
		return err
	}
	for rows > 0 {
		n := min(rows, t.cfg.Burst)
		if err := t.limiter.WaitN(ctx, n); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("throttle: %w", err)
		}
		rows -= n
	}
	return nil
}

func (t *Throttle) waitResumed(ctx context.Context) error {
	for {
		t.mu.Lock()
		ch := t.resumed
		t.mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (t *Throttle) waitBackoff(ctx context.Context) error {
	// Slow writes: pause once, longer the more batches in a row were slow,
	// then let the batch through; it measures the latency again.
	if streak := t.latencyStreak.Load(); streak > 0 {
		delay := lifecycle.DefaultBackoff.Delay(streak)
		t.backoffs.Add(1)
		if delay >= time.Second {
			t.log.Info("backfill backing off", "reason", fmt.Sprintf("target write latency %v above %v", t.Latency().Round(time.Millisecond), t.cfg.MaxLatency), "pause", delay)
		}
		if err := lifecycle.Sleep(ctx, delay); err != nil {
			return err
		}
	}
	// Lag: wait until the target subscription catches up.
	for attempt := int64(1); ; attempt++ {
		reason := t.lagReason(ctx)
		if reason == "" {
			return nil
		}
		delay := lifecycle.DefaultBackoff.Delay(attempt)
		t.backoffs.Add(1)
		if delay >= time.Second {
			t.log.Info("backfill backing off", "reason", reason, "retry_in", delay)
		}
		if err := lifecycle.Sleep(ctx, delay); err != nil {
			return err
		}
		if err := t.waitResumed(ctx); err != nil {
			return err
		}
	}
}

// lagReason says why the copy should wait for the target subscription, or "".
func (t *Throttle) lagReason(ctx context.Context) string {
	if t.cfg.MaxLag == 0 || t.cfg.Lag == nil {
		return ""
	}
	lag, err := t.currentLag(ctx)
	if err != nil {
		t.log.Warn("cannot read the target subscription's lag; copying on", "err", err)
		return ""
	}
	if lag > t.cfg.MaxLag {
		return fmt.Sprintf("target subscription lag %d above %d", lag, t.cfg.MaxLag)
	}
	return ""
}

// currentLag reads the lag at most every 500 ms, shared by all copiers.
func (t *Throttle) currentLag(ctx context.Context) (uint64, error) {
	t.lagMu.Lock()
	defer t.lagMu.Unlock()
	if time.Since(t.lagChecked) < 500*time.Millisecond {
		return t.lag, nil
	}
	lag, err := t.cfg.Lag(ctx)
	if err != nil {
		return 0, err
	}
	t.lag, t.lagChecked = lag, time.Now()
	return lag, nil
}
