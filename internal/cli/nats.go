package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/redact"
)

// NATSFlags are the connection flags every command that talks to NATS takes.
type NATSFlags struct {
	URL       string
	Creds     string
	NKey      string
	TokenFile string
	TLSCA     string
	TLSCert   string
	TLSKey    string
	Name      string
}

// Register adds the NATS flags to fs.
func (f *NATSFlags) Register(fs *FlagSet) {
	fs.StringVar(&f.URL, "nats", nats.DefaultURL, "NATS server URL(s), comma-separated")
	fs.StringVar(&f.Creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed)")
	fs.StringVar(&f.NKey, "nats-nkey", "", "NATS nkey seed file")
	fs.StringVar(&f.TokenFile, "nats-token-file", "", "file holding the NATS token (SWITCHYARD_NATS_TOKEN also works)")
	fs.StringVar(&f.TLSCA, "nats-tls-ca", "", "CA certificate to verify the NATS server")
	fs.StringVar(&f.TLSCert, "nats-tls-cert", "", "client certificate for NATS mutual TLS")
	fs.StringVar(&f.TLSKey, "nats-tls-key", "", "client key for NATS mutual TLS")
}

func (f *NATSFlags) options() ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(f.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
	}
	if f.Creds != "" {
		opts = append(opts, nats.UserCredentials(f.Creds))
	}
	if f.NKey != "" {
		opt, err := nats.NkeyOptionFromSeed(f.NKey)
		if err != nil {
			return nil, Usagef("--nats-nkey %s: %v", f.NKey, err)
		}
		opts = append(opts, opt)
	}
	token := os.Getenv("SWITCHYARD_NATS_TOKEN")
	if f.TokenFile != "" {
		b, err := os.ReadFile(f.TokenFile)
		if err != nil {
			return nil, Usagef("--nats-token-file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	if f.TLSCA != "" {
		opts = append(opts, nats.RootCAs(f.TLSCA))
	}
	if (f.TLSCert == "") != (f.TLSKey == "") {
		return nil, Usagef("--nats-tls-cert and --nats-tls-key go together")
	}
	if f.TLSCert != "" {
		opts = append(opts, nats.ClientCert(f.TLSCert, f.TLSKey))
	}
	return opts, nil
}

// Connect connects to NATS, retrying with backoff (up to 5 s apart) and
// logging what it waits for until ctx ends. Once connected, the client
// reconnects forever on its own.
func (f *NATSFlags) Connect(ctx context.Context, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	opts, err := f.options()
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }),
	)
	delay := 100 * time.Millisecond
	for {
		nc, err := nats.Connect(f.URL, opts...)
		if err == nil {
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				return nil, nil, fmt.Errorf("jetstream: %w", err)
			}
			return nc, js, nil
		}
		// The client's errors may quote the URL (`invalid port ":S3cret"
		// after host`): only the scrubbed text is printed.
		err = redact.WrapURLs(err, "NATS at", f.URL)
		log.Warn("waiting for NATS", "url", RedactURL(f.URL), "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w (last error: %v)", redact.WrapURLs(ctx.Err(), "NATS at", f.URL), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// RedactURL hides the user information (user, password or token) of NATS
// URLs; see redact.URLs.
func RedactURL(urls string) string { return redact.URLs(urls) }
