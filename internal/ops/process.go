package ops

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// DefaultStopTimeout bounds Stop.
const DefaultStopTimeout = 5 * time.Second

// NewProcessRegistry returns a fresh registry (never the global one)
// holding the Go runtime and process collectors every process's /metrics
// exports.
func NewProcessRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// ErrListen matches the error of Serve when its address cannot be bound,
// which callers usually report as a bad address flag.
var ErrListen = errors.New("ops server cannot listen")

// ListenError is Start's failure inside Serve; its message is Start's.
type ListenError struct{ Err error }

func (e *ListenError) Error() string { return e.Err.Error() }

// Is matches ErrListen.
func (e *ListenError) Is(target error) bool { return target == ErrListen }

// Unwrap returns Start's error.
func (e *ListenError) Unwrap() error { return e.Err }

// Serve returns a server for cfg that listens on cfg.Addr, or, when Addr
// is empty, one that is never started (its Handler still works, and
// SetDraining and Stop are harmless). It fails as New does, or with a
// *ListenError when the address cannot be bound.
func Serve(cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Addr == "" {
		return s, nil
	}
	if err := s.Start(); err != nil {
		return nil, &ListenError{Err: err}
	}
	return s, nil
}

// Stop shuts the server down on the way out of a process: it waits for
// requests in progress at most DefaultStopTimeout, even when ctx has
// already ended, and logs a failure instead of returning it.
func (s *Server) Stop(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultStopTimeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		s.cfg.Log.Warn("ops server shutdown", "err", err)
	}
}
