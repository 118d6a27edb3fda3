package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultCheckTimeout bounds each readiness check when Config leaves
// CheckTimeout at zero.
const DefaultCheckTimeout = 2 * time.Second

// Check is one named readiness condition. Probe returns nil when the
// dependency is usable; it must honour ctx, which carries the check timeout.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Config configures a Server.
type Config struct {
	// Addr is the listen address, such as ":9090" or "127.0.0.1:0".
	Addr string
	// Gatherer provides /metrics. Nil serves an empty exposition.
	Gatherer prometheus.Gatherer
	// Checks decide /readyz; with none, a running server is ready.
	Checks []Check
	// CheckTimeout bounds each check; default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Log receives serve errors; nil discards them.
	Log *slog.Logger
}

// Server is the operations HTTP server.
type Server struct {
	cfg      Config
	srv      *http.Server
	draining atomic.Bool

	mu       sync.Mutex
	listener net.Listener
	served   chan error
}

// New returns a server for cfg; Start listens. It fails when a check has no
// name or no probe, or two checks share a name.
func New(cfg Config) (*Server, error) {
	if cfg.CheckTimeout == 0 {
		cfg.CheckTimeout = DefaultCheckTimeout
	}
	if cfg.CheckTimeout < 0 {
		return nil, fmt.Errorf("ops server: check timeout %v must be positive", cfg.CheckTimeout)
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.NewRegistry()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	names := map[string]bool{}
	for _, c := range cfg.Checks {
		switch {
		case c.Name == "" || c.Probe == nil:
			return nil, errors.New("ops server: every readiness check needs a name and a probe")
		case names[c.Name]:
			return nil, fmt.Errorf("ops server: readiness check %q is registered twice", c.Name)
		}
		names[c.Name] = true
	}
	s := &Server{cfg: cfg}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{
		ErrorLog: slogErrorLog{cfg.Log}, ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	return s, nil
}

// Start listens on Config.Addr and serves in the background. It fails when
// the address cannot be bound, or when the server was started before.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		return errors.New("ops server: already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ops server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.listener = ln
	served := make(chan error, 1)
	s.served = served
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil {
			s.cfg.Log.Error("ops server stopped", "err", err)
		}
		served <- err
	}()
	return nil
}

// Handler serves /metrics, /healthz and /readyz, for a process that
// mounts them on its own listener instead of calling Start.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// Addr returns the bound address (useful with port 0), or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// SetDraining makes /readyz report not ready from now on, so probes see a
// worker that is shutting down; /healthz and /metrics keep answering.
func (s *Server) SetDraining() { s.draining.Store(true) }

// Shutdown stops accepting connections and waits for requests in progress
// until ctx ends (then closes them). It is a no-op before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	started := s.listener != nil
	s.mu.Unlock()
	if !started {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	s.mu.Lock()
	served := s.served
	s.served = nil
	s.mu.Unlock()
	if served == nil {
		return err // shut down before
	}
	if serveErr := <-served; err == nil {
		err = serveErr
	}
	return err
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// Readiness is the body of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// Draining is true once SetDraining was called.
	Draining bool `json:"draining,omitempty"`
	// Checks maps each check to "ok" or its error.
	Checks map[string]string `json:"checks"`
}

// Ready runs every check concurrently, each bounded by the check timeout,
// and reports the outcome.
func (s *Server) Ready(ctx context.Context) Readiness {
	res := Readiness{Ready: true, Checks: make(map[string]string, len(s.cfg.Checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.cfg.Checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
			defer cancel()
			err := probe(cctx, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Ready = false
				res.Checks[c.Name] = err.Error()
				return
			}
			res.Checks[c.Name] = "ok"
		})
	}
	wg.Wait()
	if s.draining.Load() {
		res.Ready, res.Draining = false, true
	}
	return res
}

// probe runs one check, turning a panic into an error so a faulty check
// cannot take the process down.
func probe(ctx context.Context, c Check) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v", v)
		}
	}()
	return c.Probe(ctx)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := s.Ready(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !res.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
}

// slogErrorLog adapts a slog.Logger to promhttp's error logger.
type slogErrorLog struct{ log *slog.Logger }

func (l slogErrorLog) Println(v ...any) { l.log.Warn("serving metrics", "err", fmt.Sprint(v...)) }
