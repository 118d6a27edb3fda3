package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// This file is the plumbing the commands share: the flags that connect to
// NATS and open the control plane or the migration state, the store flags,
// the logger, and the one JSON printer.

// writeIndentedJSON prints v as indented JSON: what every --json prints.
func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printResult prints v as JSON with asJSON, else as writeText writes it.
func printResult(w io.Writer, asJSON bool, v any, writeText func(io.Writer) error) error {
	if asJSON {
		return writeIndentedJSON(w, v)
	}
	return writeText(w)
}

// connectNATS connects as name with a text logger at info level on
// stderr; closeNATS closes the connection.
func connectNATS(ctx context.Context, nf *cli.NATSFlags, name string, stderr io.Writer) (log *slog.Logger, js jetstream.JetStream, closeNATS func(), err error) {
	if log, err = cli.NewLogger(stderr, "text", "info"); err != nil {
		return nil, nil, nil, err
	}
	nf.Name = name
	nc, js, err := nf.Connect(ctx, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return log, js, nc.Close, nil
}

// parseFlags parses a command that takes no arguments besides flags.
func parseFlags(fs *cli.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return fs.NoArgs()
}

// flagsFlags are the connection and bucket flags every flags subcommand
// (and the read API) takes.
type flagsFlags struct {
	nats cli.NATSFlags
	// bucket is the flag bucket; cp holds the other names and the
	// replicas of what a command creates.
	bucket              string
	cp                  controlplane.Config
	gates               gateFlags
	json                bool
	logFormat, logLevel string
	// flushInterval is how often the read API writes shadow counters and
	// seen clients; zero means the default.
	flushInterval time.Duration
	// create: the command creates the control plane's buckets and audit
	// stream when missing, with replicas; others only open what exists.
	create bool
	// longRunning commands (read-api) keep retrying while NATS is down;
	// one-shot ones fail within the connect timeout.
	longRunning bool
}

// creates makes the command create what is missing, with --replicas.
func (f *flagsFlags) creates(fs *cli.FlagSet) {
	f.create = true
	fs.IntVar(&f.cp.Replicas, "replicas", 1, "copies of the buckets and audit stream this command creates when missing (1, 3 or 5); existing ones are left as they are")
}

func (f *flagsFlags) register(fs *cli.FlagSet, logLevel string) {
	f.nats.Register(fs)
	fs.StringVar(&f.bucket, "flags-bucket", flags.DefaultBucket, "key-value bucket of the read flags")
	fs.StringVar(&f.cp.AuditStream, "audit-stream", controlplane.DefaultAuditStream, "stream the changes are appended to")
	fs.StringVar(&f.cp.ShadowBucket, "shadow-bucket", controlplane.DefaultShadowBucket, "key-value bucket of the shadow read counters")
	fs.StringVar(&f.cp.ClientsBucket, "clients-bucket", controlplane.DefaultClientsBucket, "key-value bucket of the clients read routers served")
	fs.StringVar(&f.cp.MigrationBucket, "migration-bucket", migrator.DefaultBucket, "key-value bucket of the migration state (gates)")
	fs.BoolVar(&f.cp.ProtectAudit, "protect-audit-stream", false, "turn on deny-delete and deny-purge on an existing audit stream that lacks them (irreversible; new streams always have them)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", logLevel, "log level: debug, info, warn or error")
}

// flagsEnv is what the flags subcommands and the read API open.
type flagsEnv struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	log      *slog.Logger
	store    *flags.Store
	audit    *flags.AuditLog
	shadow   *flags.ShadowStats
	samples  *flags.ShadowSamples
	registry *flags.Registry
}

func (e *flagsEnv) close() { e.nc.Close() }

// open connects and opens the control plane: the buckets, the audit stream
// and the gates' migration state.
func (f *flagsFlags) open(ctx context.Context, name string, stderr io.Writer) (*flagsEnv, error) {
	log, err := cli.NewLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return nil, err
	}
	if f.create && (f.cp.Replicas < 1 || f.cp.Replicas > 5) {
		return nil, cli.Usagef("--replicas %d must be 1 to 5", f.cp.Replicas)
	}
	f.nats.Name = "switchyard " + name
	connect := f.nats.Connect
	if f.longRunning {
		connect = f.nats.ConnectWithRetry
	}
	nc, js, err := connect(ctx, log)
	if err != nil {
		return nil, err
	}
	cfg := f.cp
	cfg.MustExist, cfg.FlagsBucket, cfg.FlushInterval, cfg.Log = !f.create, f.bucket, f.flushInterval, log
	cfg.MinShadowReads, cfg.MinShadowKeys, cfg.MinShadowSpan = f.gates.minShadowReads, f.gates.minShadowKeys, f.gates.minShadowSpan
	cfg.Wait = f.longRunning
	cp, err := controlplane.Open(ctx, js, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &flagsEnv{nc: nc, js: js, log: log, store: cp.Flags, audit: cp.Audit, shadow: cp.Shadow, samples: cp.Samples, registry: cp.Registry}, nil
}

// migrationFlags are the flags the migrator commands share.
type migrationFlags struct {
	nats                cli.NATSFlags
	stream, bucket      string
	logFormat, logLevel string
	// readOnly commands (status) open the state bucket only if it exists;
	// the others create it when missing, with replicas.
	readOnly bool
	replicas int
}

func (f *migrationFlags) register(fs *cli.FlagSet) {
	if !f.readOnly {
		fs.IntVar(&f.replicas, "replicas", 1, "copies of the migration state bucket (and backfill's work-queue stream) when this command creates them (1, 3 or 5); existing ones are left as they are")
	}
	f.nats.Register(fs)
	fs.StringVar(&f.stream, "stream", subscriptions.DefaultStream, "event stream name")
	fs.StringVar(&f.bucket, "bucket", migrator.DefaultBucket, "key-value bucket holding the migration state")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// connect builds the logger, connects to NATS and opens the state bucket.
func (f *migrationFlags) connect(ctx context.Context, name string, stderr io.Writer) (*nats.Conn, jetstream.JetStream, *migrator.State, *slog.Logger, error) {
	env, err := f.open(ctx, name, controlplane.StateOnly, "", stderr)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return env.nc, env.js, env.cp.State, env.log, nil
}

// migrationEnv is what backfill and verify open: NATS, the state bucket,
// both stores and the /metrics server.
type migrationEnv struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	state    *migrator.State
	log      *slog.Logger
	src, dst stores.Store
	metrics  *migrator.ProgressMetrics
	stopOps  func()
}

// openMigration connects, opens the state bucket and both stores and
// serves /metrics on httpAddr (nothing when empty).
func openMigration(ctx context.Context, name string, mf *migrationFlags, sf *cli.StoreFlags, httpAddr string, stderr io.Writer) (_ *migrationEnv, err error) {
	e := &migrationEnv{stopOps: func() {}}
	if e.nc, e.js, e.state, e.log, err = mf.connect(ctx, name, stderr); err != nil {
		return nil, err
	}
	if e.src, e.dst, err = sf.Open(ctx); err != nil {
		e.nc.Close()
		return nil, err
	}
	if e.metrics, e.stopOps, err = startMigrationOps(ctx, httpAddr, e.nc, e.log); err != nil {
		e.stopOps = func() {}
		e.close()
		return nil, err
	}
	return e, nil
}

// progress reports progress on stderr and in the metrics.
func (e *migrationEnv) progress(stderr io.Writer) *migrator.Progress {
	return migrator.NewProgress(stderrFile(stderr), e.log, migrator.DefaultProgressEvery).WithMetrics(e.metrics)
}

func (e *migrationEnv) close() {
	e.stopOps()
	e.dst.Close()
	e.src.Close()
	e.nc.Close()
}

// stderrFile lets the progress bar detect a terminal when stderr is one.
func stderrFile(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return w
}
