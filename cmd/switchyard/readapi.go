package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	_ "github.com/switchyard/switchyard/stores/all" // every store by DSN
)

const readAPIUsage = `read-api --legacy DSN --target DSN --access-file PATH [--listen 127.0.0.1:8081] [flags]

Serves the read router over HTTP for applications that cannot link the Go
library:

  GET /v1/{entity}/{key}?client=C             one record
  GET /v1/{entity}?client=C&after=K&limit=N   a page of the client's records
  GET /v1/_mismatches                         recent shadow mismatches (admin scope)
  GET /metrics                                Prometheus metrics
  GET /healthz, /readyz                       liveness, readiness (flags loaded)

Every /v1 request authenticates with a bearer token or a TLS client
certificate named in --access-file (JSON; see docs/read-router.md), and may
read only the clients its caller is scoped to. It listens on 127.0.0.1
unless --listen says otherwise.

The header X-Switchyard-Served-By names the store that answered. In the
shadow stages the other store is read and compared in the background.

See docs/read-router.md.`

func runReadAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("read-api", readAPIUsage, stderr)
	f := flagsFlags{longRunning: true}
	f.register(fs, "info")
	listen := fs.String("listen", "127.0.0.1:8081", "address to serve on; give :8081 to serve every interface")
	accessFile := fs.String("access-file", "", "JSON file of the callers, their tokens or certificate names, and the clients each may read (required)")
	accessReload := fs.Duration("access-reload", 30*time.Second, "how often --access-file is read again (a mounted secret changes in place)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate to serve HTTPS with (with --tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	clientCA := fs.String("client-ca", "", "PEM CA bundle that signs client certificates; enables mutual TLS (needs --tls-cert)")
	readTimeout := fs.Duration("http-read-timeout", 10*time.Second, "longest the server waits to read a whole request")
	writeTimeout := fs.Duration("http-write-timeout", 0, "longest the server takes to write a response (default: --request-timeout plus 5s)")
	idleTimeout := fs.Duration("http-idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open")
	legacyDSN := fs.String("legacy", "", "DSN of the legacy store (required; secrets as ${env:NAME} or ${file:PATH})")
	targetDSN := fs.String("target", "", "DSN of the target store (required)")
	budget := fs.Duration("shadow-budget", 2*time.Second, "time a background shadow read may take before it counts as an error")
	inFlight := fs.Int("max-shadow-in-flight", 64, "concurrent shadow reads; beyond it shadow reads are dropped and counted")
	samples := fs.Int("mismatch-samples", 100, "recent mismatching keys kept for /v1/_mismatches")
	settleDelay := fs.Duration("settle-delay", 250*time.Millisecond, "wait before a differing key is read again, so events in flight land first; raise it above the subscriptions' usual lag")
	settleChecks := fs.Int("settle-checks", 3, "re-reads of a key that keeps changing before it counts as unsettled")
	repair := fs.Bool("repair", false, "re-copy a mismatching key from legacy to the target after a shadow mismatch")
	rollbackRate := fs.Float64("auto-rollback-error-rate", 0, "roll a client back to legacy when this share (0..1) of its target reads fail; 0 disables")
	rollbackMin := fs.Int64("auto-rollback-min-reads", 20, "target reads in a window before the error rate counts")
	rollbackWindow := fs.Duration("auto-rollback-window", time.Minute, "window of the automatic rollback's error rate")
	maxRequests := fs.Int("max-in-flight", 256, "concurrent reads; beyond it requests get 503 with Retry-After")
	reqTimeout := fs.Duration("request-timeout", 10*time.Second, "longest the serving store may take to answer one read; past it the read gets 504 and counts as a store failure")
	flush := fs.Duration("stats-flush-interval", 5*time.Second, "how often shadow counters and seen clients are written to NATS")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long open requests and shadow reads may finish at shutdown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	switch {
	case *legacyDSN == "":
		return cli.Usagef("read-api: --legacy is required (a store DSN such as sqlite:/data/legacy.db)")
	case *targetDSN == "":
		return cli.Usagef("read-api: --target is required (a store DSN such as sqlserver://...)")
	case *rollbackRate < 0 || *rollbackRate > 1:
		return cli.Usagef("read-api: --auto-rollback-error-rate %v is outside 0..1", *rollbackRate)
	case *accessFile == "":
		return cli.Usagef("read-api: --access-file is required: the read API answers nobody without credentials (see docs/read-router.md)")
	case *budget <= 0 || *reqTimeout <= 0 || *flush <= 0 || *rollbackWindow <= 0 || *accessReload <= 0 || *readTimeout <= 0 || *idleTimeout <= 0 || *writeTimeout < 0:
		return cli.Usagef("read-api: durations must be positive")
	case (*tlsCert == "") != (*tlsKey == ""):
		return cli.Usagef("read-api: --tls-cert and --tls-key go together")
	case *clientCA != "" && *tlsCert == "":
		return cli.Usagef("read-api: --client-ca needs --tls-cert and --tls-key: mutual TLS runs over HTTPS")
	case *inFlight < 1 || *maxRequests < 1 || *samples < 1:
		return cli.Usagef("read-api: --max-shadow-in-flight, --max-in-flight and --mismatch-samples must be at least 1")
	}
	if *writeTimeout == 0 {
		*writeTimeout = *reqTimeout + 5*time.Second
	}
	access, err := flags.LoadReadAccess(*accessFile)
	if err != nil {
		return cli.Usagef("read-api: --access-file: %v", err)
	}
	if access.Policy().UsesCerts() && *clientCA == "" {
		return cli.Usagef("read-api: --access-file names callers by certificate, which needs --client-ca")
	}
	tlsConfig, err := readAPITLS(*tlsCert, *tlsKey, *clientCA)
	if err != nil {
		return cli.Usagef("read-api: %v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return cli.Usagef("read-api: --listen %s: %v", *listen, err)
	}
	defer ln.Close()

	legacy, err := stores.OpenRole(ctx, *legacyDSN, stores.RoleSource)
	if err != nil {
		return fmt.Errorf("--legacy: %w", err)
	}
	defer legacy.Close()
	target, err := stores.Open(ctx, *targetDSN)
	if err != nil {
		return fmt.Errorf("--target: %w", err)
	}
	defer target.Close()

	f.flushInterval = *flush
	env, err := f.open(ctx, "read-api", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	log := env.log

	provider := flags.NewProvider(env.js, flags.ProviderConfig{Bucket: f.bucket, Logger: log})
	if err := provider.InitWithContext(ctx, openfeature.EvaluationContext{}); err != nil {
		// The provider keeps retrying; until it loads, reads use legacy and
		// /readyz says not ready.
		log.Error("read flags not loaded yet; serving legacy until they are", "err", err)
	}
	defer provider.Shutdown()

	reg := processRegistry()
	if err := provider.RegisterMetrics(reg); err != nil {
		return err
	}
	if err := flags.RegisterStageMetrics(reg, env.store, 0); err != nil {
		return err
	}
	cfg := flags.RouterConfig{
		Flags: provider, Legacy: legacy, Target: target, Registerer: reg, ReadTimeout: *reqTimeout,
		ShadowBudget: *budget, MaxShadowInFlight: *inFlight, MismatchSamples: *samples,
		SettleDelay: *settleDelay, SettleChecks: *settleChecks,
		Observers:    []flags.ClientObserver{env.shadow, env.registry},
		MismatchSink: env.samples,
		Logger:       log,
	}
	if *repair {
		cfg.Repair = func(ctx context.Context, entity string, keys []string) error {
			_, err := migrator.RepairKeys(ctx, legacy, target, entity, keys)
			return err
		}
	}
	if *rollbackRate > 0 {
		cfg.AutoRollback = &flags.AutoRollbackConfig{Rollback: env.store.AutoRollback, ErrorRate: *rollbackRate, MinReads: *rollbackMin, Window: *rollbackWindow}
	}
	router, err := flags.NewRouter(cfg)
	if err != nil {
		return err
	}
	env.shadow.Start()
	env.samples.Start()
	env.registry.Start()
	api, err := flags.NewReadAPI(flags.ReadAPIConfig{Router: router, Access: access, MaxInFlight: *maxRequests, Logger: log})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if provider.Snapshot() == nil {
			http.Error(w, "read flags not loaded", http.StatusServiceUnavailable)
			return
		}
		if provider.Stale() {
			_, _ = io.WriteString(w, "ok (flags stale: NATS unreachable, serving last known stages)\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("/", api)
	srv := &http.Server{
		Handler: mux, TLSConfig: tlsConfig, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: min(5*time.Second, *readTimeout), ReadTimeout: *readTimeout,
		WriteTimeout: *writeTimeout, IdleTimeout: *idleTimeout, MaxHeaderBytes: 32 << 10,
	}
	go reloadAccess(ctx, access, *accessReload, log)

	serveErr := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	log.Info("read API listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "mutual_tls", *clientCA != "",
		"legacy", stores.Redact(*legacyDSN), "target", stores.Redact(*targetDSN))
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	// Two stages: stop taking requests and let open ones finish, then let
	// background shadow reads finish, then write the last counters.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("open requests cut at shutdown", "err", err)
	}
	if err := router.Close(shutdownCtx); err != nil {
		log.Warn("shadow reads cut at shutdown", "err", err)
	}
	flushCtx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelFlush()
	if err := errors.Join(env.shadow.Close(flushCtx), env.samples.Close(flushCtx), env.registry.Close(flushCtx)); err != nil {
		log.Warn("last counters not written", "err", err)
	}
	fmt.Fprintln(stdout, "read API stopped")
	return nil
}

// readAPITLS builds the server's TLS configuration: nil without a
// certificate; with a client CA, client certificates it signs are verified
// when given (callers may still use tokens instead).
func readAPITLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	if certFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--client-ca %s: no PEM certificate found", caFile)
	}
	cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	return cfg, nil
}

// reloadAccess reads the access file again every interval until ctx ends;
// a file that fails to parse keeps the policy in force and is logged.
func reloadAccess(ctx context.Context, access *flags.ReadAccessFile, every time.Duration, log *slog.Logger) {
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
