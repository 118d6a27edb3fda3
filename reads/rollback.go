package reads

import (
	"fmt"
	"sync"
	"time"
)

// maxRollbackWindows bounds the per-client windows kept in memory; past it
// the windows start over, which only delays a rollback by one window.
const maxRollbackWindows = 100000

// rollbackTracker counts target reads and failures per client in fixed
// windows and says when a client crossed the error-rate threshold.
type rollbackTracker struct {
	cfg AutoRollbackConfig

	mu       sync.Mutex
	windows  map[string]*rollbackWindow
	inFlight map[string]bool
}

type rollbackWindow struct {
	start         time.Time
	reads, failed int64
}

func newRollbackTracker(cfg AutoRollbackConfig) *rollbackTracker {
	if cfg.ErrorRate == 0 {
		cfg.ErrorRate = DefaultRollbackErrorRate
	}
	if cfg.MinReads <= 0 {
		cfg.MinReads = DefaultRollbackMinReads
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultRollbackWindow
	}
	return &rollbackTracker{cfg: cfg, windows: map[string]*rollbackWindow{}, inFlight: map[string]bool{}}
}

// observe counts one target read and reports whether client must be rolled
// back now, with the reason to record. A client already being rolled back
// is not reported again.
func (t *rollbackTracker) observe(client string, failed bool, now time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.windows[client]
	if !ok || now.Sub(w.start) >= t.cfg.Window {
		if !ok && len(t.windows) >= maxRollbackWindows {
			clear(t.windows)
		}
		w = &rollbackWindow{start: now}
		t.windows[client] = w
	}
	w.reads++
	if failed {
		w.failed++
	}
	if w.reads < t.cfg.MinReads || t.inFlight[client] {
		return "", false
	}
	rate := float64(w.failed) / float64(w.reads)
	if rate < t.cfg.ErrorRate {
		return "", false
	}
	t.inFlight[client] = true
	delete(t.windows, client)
	return fmt.Sprintf("target error rate %.0f%% (%d of %d reads) within %s crossed the %.0f%% threshold",
		rate*100, w.failed, w.reads, t.cfg.Window, t.cfg.ErrorRate*100), true
}

func (t *rollbackTracker) done(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inFlight, client)
}
