package flags

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultFlushInterval is how often ShadowStats, ShadowSamples and Registry
// write what they recorded, unless configured otherwise.
const DefaultFlushInterval = 5 * time.Second

// flushLoop calls a flush function every interval from start until stop.
// The buffers that write to NATS (shadow counters, the client registry) run
// one each, so reads never wait for a write.
type flushLoop struct {
	mu      sync.Mutex
	stopped chan struct{} // closed by stop
	done    chan struct{} // closed when the loop returned
}

// start runs the loop; calling it again while it runs does nothing. A failed
// flush is logged and retried at the next tick: the buffer keeps what it
// could not write.
func (l *flushLoop) start(interval time.Duration, flush func(context.Context) error, log *slog.Logger, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped != nil {
		return
	}
	l.stopped, l.done = make(chan struct{}), make(chan struct{})
	go func(stopped, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stopped:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), interval)
				if err := flush(ctx); err != nil {
					log.Warn(what+" flush failed; retrying later", "err", err)
				}
				cancel()
			}
		}
	}(l.stopped, l.done)
}

// stop ends the loop and waits until a flush in progress finished. It is
// safe to call more than once, and without start.
func (l *flushLoop) stop() {
	l.mu.Lock()
	stopped, done := l.stopped, l.done
	if stopped != nil {
		select {
		case <-stopped:
		default:
			close(stopped)
		}
	}
	l.mu.Unlock()
	if done != nil {
		<-done
	}
}
