package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Session is how a command starts talking to NATS: the logger it writes
// and the connection's name and kind.
type Session struct {
	// Name is the connection's name, as the server's monitoring shows it.
	Name string
	// LogFormat and LogLevel are NewLogger's; the log goes to Log.
	LogFormat, LogLevel string
	Log                 io.Writer
	// Check, when set, checks the flags that need no connection; it runs
	// after the logger is built and before connecting.
	Check func() error
	// Wait keeps retrying while NATS is down (long-running commands);
	// otherwise the connect timeout bounds the wait.
	Wait bool
}

// Start builds the session's logger, runs its Check and connects with f.
// Every error is returned as it is: a bad log flag or Check's error is a
// *UsageError, a failure to reach NATS a *ConnectError.
func (f *NATSFlags) Start(ctx context.Context, s Session) (*nats.Conn, jetstream.JetStream, *slog.Logger, error) {
	log, err := NewLogger(s.Log, s.LogFormat, s.LogLevel)
	if err == nil && s.Check != nil {
		err = s.Check()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	f.Name = s.Name
	connect := f.Connect
	if s.Wait {
		connect = f.ConnectWithRetry
	}
	nc, js, err := connect(ctx, log)
	return nc, js, log, err
}

// CheckReplicas refuses a number of replicas JetStream does not offer.
func CheckReplicas(n int) error {
	if n < 1 || n > 5 {
		return Usagef("--replicas %d must be 1 to 5", n)
	}
	return nil
}
