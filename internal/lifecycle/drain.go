package lifecycle

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Drain is a two-stage shutdown. The soft context it is started with says
// when to stop taking work; Hard is the context of the work in flight,
// which ends Grace after soft ends unless Finish comes first. So a store
// write that started before the stop may still commit, but nothing waits
// longer than the grace period.
type Drain struct {
	hard     context.Context
	stopHard context.CancelFunc
	grace    time.Duration
	done     chan struct{}
	finish   sync.Once
	task     sync.WaitGroup
	expired  atomic.Bool
}

// StartDrain starts watching soft. Hard keeps ctx's values but not its
// cancellation. Finish must be called to release the drain's goroutine.
func StartDrain(soft context.Context, grace time.Duration) *Drain {
	hard, stopHard := context.WithCancel(context.WithoutCancel(soft))
	d := &Drain{hard: hard, stopHard: stopHard, grace: grace, done: make(chan struct{})}
	d.task.Go(func() { d.watch(soft) })
	return d
}

// Hard is the context for the work in flight: it ends Grace after the
// soft context ended, or at Finish.
func (d *Drain) Hard() context.Context { return d.hard }

// Finish says that the work in flight is over: it stops the grace timer,
// waits for the drain's goroutine, ends Hard, and reports whether the
// grace period expired first (Hard was cut short). It may be called more
// than once.
func (d *Drain) Finish() (expired bool) {
	d.finish.Do(func() { close(d.done) })
	d.task.Wait()
	d.stopHard()
	return d.expired.Load()
}

func (d *Drain) watch(soft context.Context) {
	select {
	case <-d.done:
		return
	case <-soft.Done():
	}
	t := time.NewTimer(d.grace)
	defer t.Stop()
	select {
	case <-d.done:
	case <-t.C:
		d.expired.Store(true)
		d.stopHard()
	}
}
