package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/lifecycle"
	"github.com/switchyard/switchyard/internal/redact"
)

// DefaultConnectTimeout bounds how long a one-shot command waits for NATS.
const DefaultConnectTimeout = 5 * time.Second

// NATSFlags are the connection flags every command that talks to NATS takes.
// Each setting comes from its flag, else its environment variable (see
// EnvVars), else the nats CLI context (--context, NATS_CONTEXT, else the
// selected context), else the default.
type NATSFlags struct {
	URL            string
	Context        string
	Creds          string
	NKey           string
	TokenFile      string
	User           string
	PasswordFile   string
	TLSCA          string
	TLSCert        string
	TLSKey         string
	ConnectTimeout time.Duration
	Name           string
}

// Register adds the NATS flags to fs.
func (f *NATSFlags) Register(fs *FlagSet) {
	fs.StringVar(&f.URL, "nats", "", "NATS server URL(s), comma-separated (default: the nats context's url, else "+nats.DefaultURL+")")
	fs.StringVar(&f.Context, "context", "", "nats CLI context to connect with (default: the selected one, if any; see docs/cli.md)")
	fs.StringVar(&f.Creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed)")
	fs.StringVar(&f.NKey, "nats-nkey", "", "NATS nkey seed file")
	fs.StringVar(&f.TokenFile, "nats-token-file", "", "file holding the NATS token (SWITCHYARD_NATS_TOKEN also works)")
	fs.StringVar(&f.User, "nats-user", "", "NATS user; its password comes from --nats-password-file or SWITCHYARD_NATS_PASSWORD, never from a flag")
	fs.StringVar(&f.PasswordFile, "nats-password-file", "", "file holding the password of --nats-user (SWITCHYARD_NATS_PASSWORD also works)")
	fs.StringVar(&f.TLSCA, "nats-tls-ca", "", "CA certificate to verify the NATS server")
	fs.StringVar(&f.TLSCert, "nats-tls-cert", "", "client certificate for NATS mutual TLS")
	fs.StringVar(&f.TLSKey, "nats-tls-key", "", "client key for NATS mutual TLS")
	fs.DurationVar(&f.ConnectTimeout, "connect-timeout", DefaultConnectTimeout, "how long a one-shot command waits for NATS before it fails; long-running commands retry each attempt this long")
}

// ErrConnect matches every *ConnectError.
var ErrConnect = errors.New("cannot connect to NATS")

// ConnectError is a failure to reach NATS. Its message names the URL, with
// passwords and tokens redacted, and the context it came from.
type ConnectError struct {
	URL     string // redacted
	Context string
	Timeout time.Duration
	Err     error
}

func (e *ConnectError) Error() string {
	from := ""
	if e.Context != "" {
		from = fmt.Sprintf(" (nats context %q)", e.Context)
	}
	return fmt.Sprintf("NATS at %s%s: no connection within %v: %v", e.URL, from, e.Timeout, e.Err)
}

// Is matches ErrConnect.
func (e *ConnectError) Is(target error) bool { return target == ErrConnect }

// Unwrap returns the cause.
func (e *ConnectError) Unwrap() error { return e.Err }

// natsTarget is what a connection uses once flags, environment and context
// are merged.
type natsTarget struct {
	url, context          string
	opts                  []nats.Option
	jsDomain, jsAPIPrefix string
}

func (f *NATSFlags) resolve() (natsTarget, error) {
	if f.ConnectTimeout <= 0 {
		return natsTarget{}, Usagef("--connect-timeout %v must be positive", f.ConnectTimeout)
	}
	nc, err := LoadNATSContext(f.Context)
	if err != nil {
		return natsTarget{}, err
	}
	t := natsTarget{url: f.URL}
	opts := []nats.Option{
		nats.Name(f.Name),
		nats.Timeout(f.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
	}
	creds, nkey, ca, cert, key := f.Creds, f.NKey, f.TLSCA, f.TLSCert, f.TLSKey
	token := os.Getenv("SWITCHYARD_NATS_TOKEN")
	if f.TokenFile != "" {
		b, err := os.ReadFile(f.TokenFile)
		if err != nil {
			return natsTarget{}, Usagef("--nats-token-file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	user, password, err := f.userPassword()
	if err != nil {
		return natsTarget{}, err
	}
	if user != "" && (creds != "" || nkey != "" || token != "") {
		return natsTarget{}, Usagef("--nats-user cannot be combined with a creds file, an nkey or a token: give one way to authenticate")
	}
	authGiven := creds != "" || nkey != "" || token != "" || user != ""
	if nc != nil {
		t.context = nc.Name
		if t.url == "" {
			t.url = nc.URL
		}
		if ca == "" && nc.CA != "" {
			ca = nc.path(nc.CA)
		}
		if cert == "" && key == "" && nc.Cert != "" && nc.Key != "" {
			cert, key = nc.path(nc.Cert), nc.path(nc.Key)
		}
		if !authGiven { // flags and environment replace the context's authentication as a whole
			ctxOpts, err := nc.authOptions()
			if err != nil {
				return natsTarget{}, err
			}
			opts = append(opts, ctxOpts...)
			switch { // the nats CLI's order: user, then creds, then nkey
			case nc.User != "":
			case nc.Creds != "":
				creds = nc.path(nc.Creds)
			case nc.NKey != "":
				nkey = nc.path(nc.NKey)
			}
		}
		if nc.InboxPrefix != "" {
			opts = append(opts, nats.CustomInboxPrefix(nc.InboxPrefix))
		}
		if nc.TLSFirst {
			opts = append(opts, nats.TLSHandshakeFirst())
		}
		t.jsDomain, t.jsAPIPrefix = nc.JSDomain, nc.JSAPIPrefix
	}
	if t.url == "" {
		t.url = nats.DefaultURL
	}
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	if nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(nkey)
		if err != nil {
			return natsTarget{}, Usagef("nkey seed %s: %v", nkey, err)
		}
		opts = append(opts, opt)
	}
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	if user != "" {
		opts = append(opts, nats.UserInfo(user, password))
	}
	if ca != "" {
		opts = append(opts, nats.RootCAs(ca))
	}
	if (cert == "") != (key == "") {
		return natsTarget{}, Usagef("--nats-tls-cert and --nats-tls-key go together")
	}
	if cert != "" {
		opts = append(opts, nats.ClientCert(cert, key))
	}
	t.opts = opts
	return t, nil
}

// PasswordEnv holds the password of --nats-user when --nats-password-file
// is not given. The password is never a flag, so it never shows in a
// process listing or a manifest's args.
const PasswordEnv = "SWITCHYARD_NATS_PASSWORD"

// userPassword returns --nats-user and its password (from
// --nats-password-file, else PasswordEnv). A user without a password, or a
// password without a user, is a usage error: a half-given login would
// otherwise connect unauthenticated or as someone else.
func (f *NATSFlags) userPassword() (user, password string, err error) {
	password = os.Getenv(PasswordEnv)
	given, source := password != "", PasswordEnv
	if f.PasswordFile != "" {
		b, err := os.ReadFile(f.PasswordFile)
		if err != nil {
			return "", "", Usagef("--nats-password-file: %v", err)
		}
		// A Secret or an editor may end the file with a newline; the
		// password itself may hold any other character.
		password, given, source = strings.TrimRight(string(b), "\r\n"), true, "--nats-password-file"
	}
	switch {
	case f.User == "" && given:
		return "", "", Usagef("%s is set but --nats-user (SWITCHYARD_NATS_USER) is not", source)
	case f.User != "" && password == "":
		return "", "", Usagef("--nats-user %q needs a password: --nats-password-file or %s", f.User, PasswordEnv)
	}
	return f.User, password, nil
}

// authOptions are the context's user, password, token or JWT (creds and
// nkey files are applied by resolve, like the flags).
func (c *NATSContext) authOptions() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case c.User != "":
		password, err := c.secret("password", c.Password)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserInfo(c.User, password))
	case c.Creds != "", c.NKey != "":
	case c.UserJWT != "" && c.UserSeed != "":
		jwt, err := c.secret("user_jwt", c.UserJWT)
		if err != nil {
			return nil, err
		}
		seed, err := c.secret("user_seed", c.UserSeed)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserJWTAndSeed(jwt, seed))
	}
	if c.Token != "" {
		token, err := c.secret("token", c.Token)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Token(token))
	}
	return opts, nil
}

func (t natsTarget) jetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	switch {
	case t.jsDomain != "":
		return jetstream.NewWithDomain(nc, t.jsDomain)
	case t.jsAPIPrefix != "":
		return jetstream.NewWithAPIPrefix(nc, t.jsAPIPrefix)
	}
	return jetstream.New(nc)
}

// dial makes one connection attempt bounded by the connect timeout.
func (f *NATSFlags) dial(ctx context.Context, t natsTarget, opts []nats.Option) (*nats.Conn, error) {
	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(t.url, opts...)
		done <- result{nc, err}
	}()
	timer := time.NewTimer(f.ConnectTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.nc, r.err
	case <-timer.C:
	case <-ctx.Done():
	}
	go func() { // the attempt may still succeed: close what it opens
		if r := <-done; r.nc != nil {
			r.nc.Close()
		}
	}()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, nats.ErrTimeout
}

func (f *NATSFlags) connectOnce(ctx context.Context, log *slog.Logger) (*nats.Conn, jetstream.JetStream, natsTarget, error) {
	t, err := f.resolve()
	if err != nil {
		return nil, nil, t, err
	}
	opts := append(t.opts,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }),
	)
	nc, err := f.dial(ctx, t, opts)
	if err != nil {
		return nil, nil, t, &ConnectError{URL: RedactURL(t.url), Context: t.context, Timeout: f.ConnectTimeout, Err: redact.WrapURLs(err, "", t.url)}
	}
	js, err := t.jetStream(nc)
	if err != nil {
		nc.Close()
		return nil, nil, t, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, t, nil
}

// Connect connects to NATS once, for a one-shot command: it fails within
// the connect timeout with a *ConnectError naming the URL (redacted).
// Once connected, the client reconnects on its own.
func (f *NATSFlags) Connect(ctx context.Context, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	nc, js, _, err := f.connectOnce(ctx, log)
	return nc, js, err
}

// ConnectWithRetry connects to NATS for a long-running command (worker,
// console, read API): each attempt is bounded by the connect timeout, and
// attempts repeat with backoff (up to 5 s apart), logging what they wait
// for, until ctx ends. Once connected, the client reconnects forever.
func (f *NATSFlags) ConnectWithRetry(ctx context.Context, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	var nc *nats.Conn
	var js jetstream.JetStream
	var url string // of the last attempt
	policy := lifecycle.Policy{Backoff: lifecycle.DefaultBackoff, Log: log, Waiting: "waiting for NATS",
		Attrs: []any{"url", redactedURL{&url}}}
	err := lifecycle.Retry(ctx, policy, func() error {
		var t natsTarget
		var err error
		nc, js, t, err = f.connectOnce(ctx, log)
		url = t.url
		if err == nil || errors.Is(err, ErrUsage) {
			return lifecycle.Permanent(err)
		}
		// The client's errors may quote the URL (`invalid port ":S3cret"
		// after host`): only the scrubbed text is printed.
		return redact.WrapURLs(err, "NATS at", url)
	})
	if ie, ok := errors.AsType[*lifecycle.InterruptedError](err); ok {
		return nil, nil, fmt.Errorf("%w (last error: %v)", redact.WrapURLs(ie.Cause, "NATS at", url), ie.Last)
	}
	if err != nil {
		return nil, nil, err
	}
	return nc, js, nil
}

// redactedURL logs the URL it points to, redacted, as it is when logged.
type redactedURL struct{ url *string }

func (r redactedURL) LogValue() slog.Value { return slog.StringValue(RedactURL(*r.url)) }

// RedactURL hides the user information (user, password or token) of NATS
// URLs; see redact.URLs.
func RedactURL(urls string) string { return redact.URLs(urls) }

// Resolved returns the server URL and the connection options that the
// flags, the environment and the nats context describe, for callers that
// connect on their own terms, such as preflight's single attempt. named
// reports whether anything named a server (--nats, NATS_URL or a context)
// rather than the default URL being assumed.
func (f *NATSFlags) Resolved() (url string, opts []nats.Option, named bool, err error) {
	t, err := f.resolve()
	if err != nil {
		return "", nil, false, err
	}
	return t.url, t.opts, f.URL != "" || t.context != "", nil
}
