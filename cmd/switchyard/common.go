package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/ops"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// This file is the plumbing the commands share: the flags that connect to
// NATS and open the control plane, the migration commands' stores and ops
// server.

// connectNATS connects as name, logging as text at info level to stderr.
func connectNATS(ctx context.Context, nf *cli.NATSFlags, name string, stderr io.Writer) (*nats.Conn, jetstream.JetStream, error) {
	nc, js, _, err := nf.Start(ctx, cli.Session{Name: name, LogFormat: "text", LogLevel: "info", Log: stderr})
	return nc, js, err
}

// logFlags are --log-format and --log-level.
type logFlags struct{ format, level string }

func (l *logFlags) register(fs *cli.FlagSet, level string) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", level, "log level: debug, info, warn or error")
}

// flagsFlags are the connection and bucket flags every flags subcommand
// (and the read API) takes.
type flagsFlags struct {
	nats cli.NATSFlags
	log  logFlags
	// cp holds the buckets' and audit stream's names and the replicas of
	// what a command creates.
	cp    controlplane.Config
	gates gateFlags
	json  bool
	// create: the command creates the control plane's buckets and audit
	// stream when missing, with replicas; others only open what exists.
	// longRunning commands (read-api) keep retrying while NATS is down;
	// one-shot ones fail within the connect timeout.
	create, longRunning bool
}

// creates makes the command create what is missing, with --replicas.
func (f *flagsFlags) creates(fs *cli.FlagSet) {
	f.create = true
	fs.IntVar(&f.cp.Replicas, "replicas", 1, "copies of the buckets and audit stream this command creates when missing (1, 3 or 5); existing ones are left as they are")
}

func (f *flagsFlags) register(fs *cli.FlagSet, logLevel string) {
	f.nats.Register(fs)
	registerControlPlaneFlags(fs, &f.cp, "key-value bucket of the migration state (gates)")
	fs.BoolVar(&f.cp.ProtectAudit, "protect-audit-stream", false, "turn on deny-delete and deny-purge on an existing audit stream that lacks them (irreversible; new streams always have them)")
	f.log.register(fs, logLevel)
}

// open connects and opens the control plane: the buckets, the audit stream
// and the gates' migration state.
func (f *flagsFlags) open(ctx context.Context, name string, stderr io.Writer) (*migrationEnv, error) {
	session := cli.Session{Name: "switchyard " + name, LogFormat: f.log.format, LogLevel: f.log.level, Log: stderr, Wait: f.longRunning}
	if f.create {
		session.Check = func() error { return cli.CheckReplicas(f.cp.Replicas) }
	}
	cfg := f.cp
	cfg.MustExist, cfg.Wait = !f.create, f.longRunning
	f.gates.apply(&cfg)
	return openControlPlane(ctx, &f.nats, session, cfg)
}

// migrationFlags are the flags the migrator commands share.
type migrationFlags struct {
	nats           cli.NATSFlags
	log            logFlags
	stream, bucket string
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
	f.log.register(fs, "info")
}

// migrationEnv is what a command opened: NATS and parts of the control
// plane and, for backfill and verify, both stores, the progress (on stderr
// and in the metrics) and the ops server.
type migrationEnv struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	cp       *controlplane.ControlPlane
	log      *slog.Logger
	src, dst stores.Store
	progress *migrator.Progress
	ops      *ops.Server
}

// open builds the logger, connects to NATS and opens parts of the control
// plane: the state bucket (only if it exists when readOnly), and the flag
// store in flagsBucket for StateAndReadStages.
func (f *migrationFlags) open(ctx context.Context, name string, parts controlplane.Parts, flagsBucket string, stderr io.Writer) (*migrationEnv, error) {
	session := cli.Session{Name: "switchyard " + name, LogFormat: f.log.format, LogLevel: f.log.level, Log: stderr}
	if !f.readOnly {
		session.Check = func() error { return cli.CheckReplicas(f.replicas) }
	}
	return openControlPlane(ctx, &f.nats, session, controlplane.Config{
		Parts: parts, MigrationBucket: f.bucket, FlagsBucket: flagsBucket, Replicas: f.replicas, MustExist: f.readOnly,
	})
}

// openControlPlane is how every command opens the control plane: it
// connects as session says, then opens cfg with the session's logger.
func openControlPlane(ctx context.Context, nf *cli.NATSFlags, session cli.Session, cfg controlplane.Config) (*migrationEnv, error) {
	nc, js, log, err := nf.Start(ctx, session)
	if err != nil {
		return nil, err
	}
	cfg.Log = log
	cp, err := controlplane.Open(ctx, js, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &migrationEnv{nc: nc, js: js, cp: cp, log: log}, nil
}

// openCopy opens what backfill and verify work with: the state bucket,
// both stores, and /metrics, /healthz and /readyz on httpAddr (nothing
// when empty).
func (f *migrationFlags) openCopy(ctx context.Context, name string, sf *cli.StoreFlags, httpAddr string, stderr io.Writer) (*migrationEnv, error) {
	e, err := f.open(ctx, name, controlplane.StateOnly, "", stderr)
	if err != nil {
		return nil, err
	}
	if e.src, e.dst, err = sf.Open(ctx); err == nil {
		reg := ops.NewProcessRegistry()
		var metrics *migrator.ProgressMetrics
		if metrics, err = migrator.NewProgressMetrics(reg); err == nil {
			e.progress = migrator.NewProgress(stderr, e.log, migrator.DefaultProgressEvery).WithMetrics(metrics)
			e.ops, err = ops.Serve(ops.Config{Addr: httpAddr, Gatherer: reg, Log: e.log, Checks: []ops.Check{ops.NATSConnected("nats", e.nc)}})
		}
	}
	if err != nil {
		e.close(ctx)
		if errors.Is(err, ops.ErrListen) {
			return nil, cli.Usagef("--http: %v", err)
		}
		return nil, err
	}
	return e, nil
}

func (e *migrationEnv) close(ctx context.Context) {
	if e.ops != nil {
		e.ops.Stop(ctx)
	}
	if e.src != nil { // sf.Open opens both or neither
		e.dst.Close()
		e.src.Close()
	}
	e.nc.Close()
}
