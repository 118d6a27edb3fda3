package reads

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
)

// flushTimeout bounds writing the last shadow counters, samples and seen
// clients at shutdown.
const flushTimeout = 5 * time.Second

// ControlPlane is what a Server needs of the control plane. Every field is
// required; Open's caller opened them and closes the NATS connection after
// Serve returned.
type ControlPlane struct {
	// JS and FlagsBucket feed the OpenFeature provider of the read stages.
	JS          jetstream.JetStream
	FlagsBucket string
	// Flags rolls clients back to legacy (ServerConfig.AutoRollbackErrorRate)
	// and counts clients per stage for the metrics.
	Flags *flags.Store
	// Shadow, Samples and Clients keep the evidence of the routed reads;
	// Serve starts their flush loops and writes their last entries at
	// shutdown.
	Shadow  *flags.ShadowStats
	Samples *flags.ShadowSamples
	Clients *flags.Registry
	// Metrics receives the router's and the provider's metrics and is
	// served on /metrics.
	Metrics *prometheus.Registry
	Log     *slog.Logger
}

// Server is a read API bound to its address with its stores open. Serve
// runs it; Close releases what Open took when Serve is not called.
type Server struct {
	cfg            ServerConfig
	access         *ReadAccessFile
	tls            *tls.Config
	ln             net.Listener
	legacy, target stores.Store
}

// Open checks cfg, loads the access file and the TLS material, binds the
// listen address and opens the stores, in that order. A wrong setting
// fails with a *flags.InvalidError naming it (see ServerConfig); a store
// that cannot be opened with the store's error.
func Open(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPWriteTimeout == 0 {
		cfg.HTTPWriteTimeout = cfg.RequestTimeout + writeTimeoutMargin
	}
	access, err := LoadReadAccess(cfg.AccessFile)
	if err != nil {
		return nil, invalid("access-file", "is not usable: %v", err)
	}
	if access.Policy().UsesCerts() && cfg.ClientCA == "" {
		return nil, invalid("access-file", "names callers by certificate, which needs --client-ca")
	}
	tlsConfig, err := serverTLS(cfg.TLSCert, cfg.TLSKey, cfg.ClientCA)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, invalid("listen", "%s: %v", cfg.Listen, err)
	}
	s := &Server{cfg: cfg, access: access, tls: tlsConfig, ln: ln}
	if s.legacy, err = cfg.Adapters.OpenRole(ctx, cfg.Legacy, stores.RoleSource); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("--legacy: %w", err)
	}
	if s.target, err = cfg.Adapters.Open(ctx, cfg.Target); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("--target: %w", err)
	}
	return s, nil
}

// Close closes the listener and the stores.
func (s *Server) Close() error {
	errs := []error{s.ln.Close()}
	for _, st := range []stores.Store{s.legacy, s.target} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Serve serves the read API until ctx ends, then shuts down in two stages:
// it stops taking requests and lets open ones finish, lets background
// shadow reads finish, all within ShutdownGrace, and writes the last
// counters. It returns nil after an orderly shutdown; it closes the Server
// either way.
func (s *Server) Serve(ctx context.Context, cp ControlPlane) error {
	defer s.Close()
	log := cp.Log
	provider := flags.NewProvider(cp.JS, flags.ProviderConfig{Bucket: cp.FlagsBucket, Logger: log})
	if err := provider.InitWithContext(ctx, openfeature.EvaluationContext{}); err != nil {
		// The provider keeps retrying; until it loads, reads use legacy and
		// /readyz says not ready.
		log.Error("read flags not loaded yet; serving legacy until they are", "err", err)
	}
	defer provider.Shutdown()
	router, err := s.newRouter(provider, cp)
	if err != nil {
		return err
	}
	probes, err := ops.New(ops.Config{Gatherer: cp.Metrics, Log: log, Checks: []ops.Check{flagsLoaded(provider)}})
	if err != nil {
		return err
	}
	api, err := NewReadAPI(ReadAPIConfig{Router: router, Access: s.access, MaxInFlight: s.cfg.MaxInFlight, Logger: log})
	if err != nil {
		return err
	}
	cp.Shadow.Start()
	cp.Samples.Start()
	cp.Clients.Start()
	srv := s.httpServer(api, probes.Handler(), log)
	var reload sync.WaitGroup
	defer reload.Wait()
	reloadCtx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	reload.Go(func() { reloadAccess(reloadCtx, s.access, s.cfg.AccessReload, log) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.serveHTTP(srv) }()
	log.Info("read API listening", "addr", s.ln.Addr().String(), "tls", s.tls != nil, "mutual_tls", s.cfg.ClientCA != "",
		"legacy", stores.Redact(s.cfg.Legacy), "target", stores.Redact(s.cfg.Target))
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	probes.SetDraining()
	s.shutdown(ctx, srv, router, cp)
	return nil
}

// newRouter builds the router over the stores, reading stages from
// provider, with its metrics in cp.Metrics.
func (s *Server) newRouter(provider *flags.Provider, cp ControlPlane) (*Router, error) {
	if err := provider.RegisterMetrics(cp.Metrics); err != nil {
		return nil, err
	}
	if err := flags.RegisterStageMetrics(cp.Metrics, cp.Flags, 0); err != nil {
		return nil, err
	}
	cfg := RouterConfig{
		Flags: provider, Legacy: s.legacy, Target: s.target, Registerer: cp.Metrics, ReadTimeout: s.cfg.RequestTimeout,
		ShadowBudget: s.cfg.ShadowBudget, MaxShadowInFlight: s.cfg.MaxShadowInFlight, MismatchSamples: s.cfg.MismatchSamples,
		SettleDelay: s.cfg.SettleDelay, SettleChecks: s.cfg.SettleChecks,
		Observers:    []flags.ClientObserver{cp.Shadow, cp.Clients},
		MismatchSink: cp.Samples,
		Logger:       cp.Log,
	}
	if s.cfg.Repair {
		cfg.Repair = func(ctx context.Context, entity string, keys []string) error {
			_, err := migrator.RepairKeys(ctx, s.legacy, s.target, entity, keys)
			return err
		}
	}
	if s.cfg.AutoRollbackErrorRate > 0 {
		cfg.AutoRollback = &AutoRollbackConfig{Rollback: cp.Flags.AutoRollback, ErrorRate: s.cfg.AutoRollbackErrorRate,
			MinReads: s.cfg.AutoRollbackMinReads, Window: s.cfg.AutoRollbackWindow}
	}
	return NewRouter(cfg)
}

// flagsLoaded is the readiness check: ready once the read stages are
// loaded. Stale stages (NATS unreachable) still serve, so they are ready.
func flagsLoaded(provider *flags.Provider) ops.Check {
	return ops.Check{Name: "flags", Probe: func(context.Context) error {
		if provider.Snapshot() == nil {
			return errors.New("read flags not loaded")
		}
		return nil
	}}
}

// httpServer serves the read API and, on the same listener, the
// operations endpoints.
func (s *Server) httpServer(api, probes http.Handler, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("GET /metrics", probes)
	mux.Handle("GET /healthz", probes)
	mux.Handle("GET /readyz", probes)
	mux.Handle("/", api)
	return &http.Server{
		Handler: mux, TLSConfig: s.tls, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: min(5*time.Second, s.cfg.HTTPReadTimeout), ReadTimeout: s.cfg.HTTPReadTimeout,
		WriteTimeout: s.cfg.HTTPWriteTimeout, IdleTimeout: s.cfg.HTTPIdleTimeout, MaxHeaderBytes: 32 << 10,
	}
}

func (s *Server) serveHTTP(srv *http.Server) error {
	if s.tls != nil {
		return srv.ServeTLS(s.ln, "", "")
	}
	return srv.Serve(s.ln)
}

// shutdown stops taking requests and lets open ones finish, then lets
// background shadow reads finish, then writes the last counters.
func (s *Server) shutdown(ctx context.Context, srv *http.Server, router *Router, cp ControlPlane) {
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(graceCtx); err != nil {
		cp.Log.Warn("open requests cut at shutdown", "err", err)
	}
	if err := router.Close(graceCtx); err != nil {
		cp.Log.Warn("shadow reads cut at shutdown", "err", err)
	}
	flushCtx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancelFlush()
	if err := errors.Join(cp.Shadow.Close(flushCtx), cp.Samples.Close(flushCtx), cp.Clients.Close(flushCtx)); err != nil {
		cp.Log.Warn("last counters not written", "err", err)
	}
}

// serverTLS builds the server's TLS configuration: nil without a
// certificate; with a client CA, client certificates it signs are verified
// when given (callers may still use tokens instead).
func serverTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	if certFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, invalid("tls-cert", "(with --tls-key) is not usable: %v", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, invalid("client-ca", "is not readable: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, invalid("client-ca", "%s: no PEM certificate found", caFile)
	}
	cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	return cfg, nil
}

// reloadAccess reads the access file again every interval until ctx ends;
// a file that fails to parse keeps the policy in force and is logged.
func reloadAccess(ctx context.Context, access *ReadAccessFile, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		switch changed, err := access.Reload(); {
		case err != nil:
			log.Error("access file not reloaded; the previous callers stay in force", "err", err)
		case changed:
			log.Info("access file reloaded")
		}
	}
}
