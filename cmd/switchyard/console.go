package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/flagsadapter"
	"github.com/switchyard/switchyard/console/migrationstatus"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
)

const consoleUsage = `console [flags]
       console hash-password [--cost N] < password

Serves the support console: search clients, see their read stage, shadow
statistics and promotion gates, switch or roll them back with a reason,
clear their shadow counters, read the audit log and the migration status.
With --legacy, --target and --verify-entities operators can also verify
one client's rows from its page.

Users come from --users-file, or from SWITCHYARD_CONSOLE_USERS holding the
same JSON or YAML document. hash-password reads one password from standard
input and prints its bcrypt hash for that file.

See docs/console.md.`

// consoleUsersEnv holds an inline users document when no file is given.
const consoleUsersEnv = "SWITCHYARD_CONSOLE_USERS"

func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "hash-password" {
		return runHashPassword(args[1:], os.Stdin, stdout, stderr)
	}
	fs := cli.NewFlagSet("console", consoleUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	listen := fs.String("listen", ":8080", "address to serve the console on")
	usersFile := fs.String("users-file", "", "users file (JSON or YAML); default: the document in "+consoleUsersEnv)
	insecureCookies := fs.Bool("insecure-cookies", false, "send cookies without Secure, for plain HTTP on localhost only")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM)")
	tlsKey := fs.String("tls-key", "", "private key of --tls-cert (PEM)")
	idle := fs.Duration("idle-timeout", console.DefaultIdleTimeout, "end sessions unused for this long")
	lifetime := fs.Duration("session-lifetime", console.DefaultSessionLifetime, "end sessions this long after login")
	var proxies, origins cli.StringList
	fs.Var(&proxies, "trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is trusted for login rate limiting (repeatable)")
	fs.Var(&origins, "trusted-origin", "extra origin (scheme://host[:port]) allowed to post changes (repeatable)")
	flagsBucket := fs.String("flags-bucket", flags.DefaultBucket, "key-value bucket of the read flags")
	auditStream := fs.String("audit-stream", controlplane.DefaultAuditStream, "stream the changes are appended to")
	shadowBucket := fs.String("shadow-bucket", controlplane.DefaultShadowBucket, "key-value bucket of the shadow read counters")
	clientsBucket := fs.String("clients-bucket", controlplane.DefaultClientsBucket, "key-value bucket of the clients read routers served")
	migrationBucket := fs.String("migration-bucket", migrator.DefaultBucket, "key-value bucket of the migration state")
	stream := fs.String("stream", "EVENTS", "event stream whose subscriptions the migration page shows")
	var gates gateFlags
	gates.register(fs)
	legacyDSN := fs.String("legacy", "", "DSN of the legacy store, for per-client verifies from the client page (with --target and --verify-entities)")
	targetDSN := fs.String("target", "", "DSN of the target store, for per-client verifies")
	var verifyEntities cli.StringList
	fs.Var(&verifyEntities, "verify-entities", "entities a per-client verify compares, comma-separated")
	targetConsumer := fs.String("target-consumer", "target", "the target subscription a per-client verify waits for before reporting a difference")
	legacyConsumer := fs.String("legacy-consumer", "legacy", "the legacy subscription it also waits for (empty: not waited for)")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long open requests may finish at shutdown")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	verifies := *legacyDSN != "" || *targetDSN != "" || len(verifyEntities) > 0
	if verifies && (*legacyDSN == "" || *targetDSN == "" || len(verifyEntities) == 0) {
		return cli.Usagef("--legacy, --target and --verify-entities go together (per-client verifies)")
	}
	if verifies {
		if err := validEntities("console", verifyEntities); err != nil {
			return err
		}
	}
	log, err := cli.NewLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	users, err := loadConsoleUsers(*usersFile)
	if err != nil {
		return err
	}
	opts := console.Options{InsecureCookies: *insecureCookies, IdleTimeout: *idle, SessionLifetime: *lifetime, TrustedOrigins: origins}
	for _, p := range proxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return cli.Usagef("--trusted-proxy %q is not a CIDR such as 10.0.0.0/8: %v", p, err)
		}
		opts.TrustedProxies = append(opts.TrustedProxies, prefix)
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return cli.Usagef("--tls-cert and --tls-key go together")
	}
	srv := &http.Server{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return cli.Usagef("--tls-cert/--tls-key: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else if !*insecureCookies {
		log.Warn("serving plain HTTP with Secure cookies: browsers only keep them behind an HTTPS proxy; use --insecure-cookies for local use")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	defer ln.Close()

	natsFlags.Name = "switchyard-console"
	nc, js, err := natsFlags.ConnectWithRetry(ctx, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	cp, err := openControlPlane(ctx, js, true, log, controlplane.Config{
		MustExist:       true,
		MigrationBucket: *migrationBucket,
		FlagsBucket:     *flagsBucket,
		AuditStream:     *auditStream,
		ShadowBucket:    *shadowBucket,
		ClientsBucket:   *clientsBucket,
		MinShadowReads:  gates.minShadowReads,
		MinShadowKeys:   gates.minShadowKeys,
		MinShadowSpan:   gates.minShadowSpan,
		Log:             log,
	})
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped before the console was ready", "reason", err)
			return nil
		}
		return err
	}
	deps := console.Deps{
		Flags:  flagsadapter.New(cp.Flags, cp.Shadow).WithSampleLog(cp.Samples),
		Status: &migrationstatus.Source{State: cp.State, JS: js, Stream: *stream, Flags: cp.Flags},
		Users:  users,
		Log:    log,
	}
	if verifies {
		v, closeVerifier, err := migrationstatus.OpenVerifier(ctx, migrationstatus.VerifierStores{
			LegacyDSN: *legacyDSN, TargetDSN: *targetDSN, Entities: verifyEntities,
			JS: js, Stream: *stream, TargetConsumer: *targetConsumer, LegacyConsumer: *legacyConsumer,
		}, cp.State, cp.Audit, log)
		if err != nil {
			return err
		}
		defer closeVerifier()
		deps.Verifier = v
	}
	handler, err := console.New(deps, opts)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	srv.Handler = handler
	log.Info("console listening", "addr", ln.Addr().String(), "tls", srv.TLSConfig != nil, "users", len(users.Names()))
	return console.Serve(ctx, srv, ln, *grace)
}

// loadConsoleUsers reads the users file, or the inline document in
// SWITCHYARD_CONSOLE_USERS when no file is given.
func loadConsoleUsers(path string) (*console.Users, error) {
	if path != "" {
		u, err := console.LoadUsersFile(path)
		if err != nil {
			return nil, cli.Usagef("--users-file: %v", err)
		}
		return u, nil
	}
	doc, ok := os.LookupEnv(consoleUsersEnv)
	if !ok {
		return nil, cli.Usagef("no users: pass --users-file or set %s (see docs/console.md)", consoleUsersEnv)
	}
	u, err := console.ParseUsers([]byte(doc))
	if err != nil {
		return nil, cli.Usagef("%s: %v", consoleUsersEnv, err)
	}
	return u, nil
}

// runHashPassword reads one password (the first line of stdin) and prints
// its bcrypt hash.
func runHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("console hash-password", "console hash-password [--cost N] < password\n\nReads a password from the first line of standard input and prints its bcrypt hash.", stderr)
	cost := fs.Int("cost", console.DefaultBcryptCost, fmt.Sprintf("bcrypt cost (work factor), %d to 31", console.MinBcryptCost))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if *cost < console.MinBcryptCost || *cost > 31 {
		return cli.Usagef("hash-password: --cost %d is outside %d..31: cheaper hashes are refused by the console", *cost, console.MinBcryptCost)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return cli.Usagef("hash-password: no password on standard input (try: read -rs PW; printf '%%s\\n' \"$PW\" | switchyard console hash-password)")
	}
	hash, err := console.HashPassword(password, *cost)
	if err != nil {
		return cli.Usagef("hash-password: %v", err)
	}
	_, err = fmt.Fprintln(stdout, hash)
	return err
}
