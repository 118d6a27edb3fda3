package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/migrationstatus"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/subscriptions"
)

var consoleUsage = usageText("console")

// consoleUsersEnv holds an inline users document when no file is given.
const consoleUsersEnv = console.UsersEnv

func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "hash-password" {
		return runHashPassword(args[1:], os.Stdin, stdout, stderr)
	}
	fs := cli.NewFlagSet("console", consoleUsage, stderr)
	var f consoleFlags
	f.register(fs)
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	log, err := cli.NewLogger(stderr, f.log.format, f.log.level)
	if err != nil {
		return err
	}
	users, err := loadConsoleUsers(f.usersFile)
	if err != nil {
		return err
	}
	srv, err := f.server.Build(&f.opts, log)
	if err != nil { // a *console.ServerConfigError
		return cli.Usagef("--%v", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	defer ln.Close()
	deps, closeDeps, err := f.open(ctx, stderr)
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped before the console was ready", "reason", err)
			return nil
		}
		return err
	}
	defer closeDeps()
	deps.Users = users
	handler, err := console.New(deps, f.opts)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	srv.Handler = handler
	log.Info("console listening", "addr", ln.Addr().String(), "tls", srv.TLSConfig != nil, "users", len(users.Names()))
	return console.Serve(ctx, srv, ln, f.grace)
}

// consoleFlags are the flags of the console.
type consoleFlags struct {
	nats              cli.NATSFlags
	listen, usersFile string
	server            console.ServerConfig
	opts              console.Options
	controlPlane      controlplane.Config
	gates             gateFlags
	verify            migrationstatus.VerifierStores
	grace             time.Duration
	log               logFlags
}

func (f *consoleFlags) register(fs *cli.FlagSet) {
	f.nats.Register(fs)
	fs.StringVar(&f.listen, "listen", ":8080", "address to serve the console on")
	fs.StringVar(&f.usersFile, "users-file", "", "users file (JSON or YAML); default: the document in "+consoleUsersEnv)
	fs.BoolVar(&f.opts.InsecureCookies, "insecure-cookies", false, "send cookies without Secure, for plain HTTP on localhost only")
	fs.StringVar(&f.server.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&f.server.TLSKey, "tls-key", "", "private key of --tls-cert (PEM)")
	fs.DurationVar(&f.opts.IdleTimeout, "idle-timeout", console.DefaultIdleTimeout, "end sessions unused for this long")
	fs.DurationVar(&f.opts.SessionLifetime, "session-lifetime", console.DefaultSessionLifetime, "end sessions this long after login")
	fs.Var((*cli.StringList)(&f.server.TrustedProxies), "trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is trusted for login rate limiting (repeatable)")
	fs.Var((*cli.StringList)(&f.opts.TrustedOrigins), "trusted-origin", "extra origin (scheme://host[:port]) allowed to post changes (repeatable)")
	registerControlPlaneFlags(fs, &f.controlPlane, "key-value bucket of the migration state")
	fs.StringVar(&f.verify.Stream, "stream", subscriptions.DefaultStream, "event stream whose subscriptions the migration page shows")
	f.gates.register(fs)
	fs.StringVar(&f.verify.LegacyDSN, "legacy", "", "DSN of the legacy store, for per-client verifies from the client page (with --target and --verify-entities)")
	fs.StringVar(&f.verify.TargetDSN, "target", "", "DSN of the target store, for per-client verifies")
	fs.Var((*cli.StringList)(&f.verify.Entities), "verify-entities", "entities a per-client verify compares, comma-separated")
	fs.StringVar(&f.verify.TargetConsumer, "target-consumer", migrator.DefaultTargetConsumer, "the target subscription a per-client verify waits for before reporting a difference")
	fs.StringVar(&f.verify.LegacyConsumer, "legacy-consumer", migrator.DefaultLegacyConsumer, "the legacy subscription it also waits for (empty: not waited for)")
	fs.DurationVar(&f.grace, "shutdown-grace", console.DefaultShutdownGrace, "how long open requests may finish at shutdown")
	f.log.register(fs, "info")
}

func (f *consoleFlags) check() error {
	v := &f.verify
	if !v.Enabled() {
		return nil
	}
	if v.LegacyDSN == "" || v.TargetDSN == "" || len(v.Entities) == 0 {
		return cli.Usagef("--legacy, --target and --verify-entities go together (per-client verifies)")
	}
	return cli.ValidEntities("console", v.Entities)
}

// open connects, waiting for NATS and the control plane, and returns
// what the console serves from (without users) and a function closing it.
func (f *consoleFlags) open(ctx context.Context, stderr io.Writer) (console.Deps, func(), error) {
	cfg := f.controlPlane
	cfg.MustExist, cfg.Wait = true, true
	f.gates.apply(&cfg)
	session := cli.Session{Name: "switchyard-console", LogFormat: f.log.format, LogLevel: f.log.level, Log: stderr, Wait: true}
	e, err := openControlPlane(ctx, &f.nats, session, cfg)
	if err != nil {
		return console.Deps{}, nil, err
	}
	deps, closeDeps, err := migrationstatus.Deps(ctx, e.js, e.cp, f.verify, e.log)
	if err != nil {
		e.nc.Close()
		return console.Deps{}, nil, err
	}
	return deps, func() { closeDeps(); e.nc.Close() }, nil
}

// loadConsoleUsers reads the users file, or the inline document in
// console.UsersEnv when no file is given.
func loadConsoleUsers(path string) (*console.Users, error) {
	u, err := console.LoadUsers(path)
	switch {
	case errors.Is(err, console.ErrNoUsers):
		return nil, cli.Usagef("no users: pass --users-file or set %s (see docs/console.md)", consoleUsersEnv)
	case err != nil && path != "":
		return nil, cli.Usagef("--users-file: %v", err)
	case err != nil:
		return nil, cli.Usagef("%v", err)
	}
	return u, nil
}

// runHashPassword reads one password (the first line of stdin) and prints
// its bcrypt hash.
func runHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("console hash-password", usageText("console-hash-password"), stderr)
	cost := fs.Int("cost", console.DefaultBcryptCost, fmt.Sprintf("bcrypt cost (work factor), %d to %d", console.MinBcryptCost, console.MaxBcryptCost))
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	hash, err := console.HashPasswordFrom(stdin, *cost)
	switch {
	case errors.Is(err, console.ErrWeakHash):
		return cli.Usagef("hash-password: --cost %d is outside %d..%d: cheaper hashes are refused by the console", *cost, console.MinBcryptCost, console.MaxBcryptCost)
	case errors.Is(err, console.ErrNoPassword):
		return cli.Usagef("hash-password: no password on standard input (try: read -rs PW; printf '%%s\\n' \"$PW\" | switchyard console hash-password)")
	case errors.Is(err, console.ErrWeakPassword):
		return cli.Usagef("hash-password: %v", err)
	case err != nil:
		return err
	}
	_, err = fmt.Fprintln(stdout, hash)
	return err
}
