package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
)

// userServer starts a server with one user whose password holds the
// characters a URL would need escaped.
func userServer(t *testing.T) *testenv.NATSServer {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "users.conf")
	body := "jetstream {}\nauthorization { users: [ {user: worker, password: \"S3cret/#?@% x\"} ] }\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return testenv.NATSWithConfig(t, conf)
}

func connectFlags(t *testing.T, f *NATSFlags) error {
	t.Helper()
	if f.ConnectTimeout == 0 {
		f.ConnectTimeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, err := f.Connect(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		nc.Close()
	}
	return err
}

// TestNATSUserAndPassword: --nats-user takes its password from
// --nats-password-file or SWITCHYARD_NATS_PASSWORD (never from a flag or
// the URL), both also through the environment allow-list; a wrong password
// fails without printing it, and half a login is a usage error.
func TestNATSUserAndPassword(t *testing.T) {
	isolateNATSContexts(t)
	srv := userServer(t)
	t.Setenv(PasswordEnv, "")

	// Without credentials the server refuses: the user is what lets us in.
	if err := connectFlags(t, &NATSFlags{URL: srv.URL}); err == nil {
		t.Fatal("connected without credentials; the test server must require them")
	}

	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte("S3cret/#?@% x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := connectFlags(t, &NATSFlags{URL: srv.URL, User: "worker", PasswordFile: pwFile}); err != nil {
		t.Fatalf("--nats-user with --nats-password-file: %v", err)
	}

	// The chart's way: user and password from the environment.
	t.Setenv("SWITCHYARD_NATS_USER", "worker")
	t.Setenv(PasswordEnv, "S3cret/#?@% x")
	fs := NewFlagSet("test", "", io.Discard)
	var f NATSFlags
	f.Register(fs)
	if err := fs.Parse([]string{"--nats", srv.URL}); err != nil {
		t.Fatal(err)
	}
	if f.User != "worker" {
		t.Fatalf("SWITCHYARD_NATS_USER did not fill --nats-user: %q", f.User)
	}
	if err := connectFlags(t, &f); err != nil {
		t.Fatalf("SWITCHYARD_NATS_USER with %s: %v", PasswordEnv, err)
	}

	// A wrong password is a connect error that does not show it.
	t.Setenv(PasswordEnv, "Wr0ngPassw0rd")
	err := connectFlags(t, &NATSFlags{URL: srv.URL, User: "worker"})
	if !errors.Is(err, ErrConnect) {
		t.Fatalf("wrong password: %v, want ErrConnect", err)
	}
	if strings.Contains(err.Error(), "Wr0ng") {
		t.Fatalf("the error shows the password: %v", err)
	}

	// Half a login, or a login next to another way in, is refused before
	// any connection.
	t.Setenv(PasswordEnv, "")
	for name, f := range map[string]*NATSFlags{
		"user without password": {URL: srv.URL, User: "worker"},
		"file without user":     {URL: srv.URL, PasswordFile: pwFile},
		"unreadable file":       {URL: srv.URL, User: "worker", PasswordFile: filepath.Join(t.TempDir(), "missing")},
		"user and a creds file": {URL: srv.URL, User: "worker", PasswordFile: pwFile, Creds: pwFile},
		"user and a token file": {URL: srv.URL, User: "worker", PasswordFile: pwFile, TokenFile: pwFile},
	} {
		if err := connectFlags(t, f); !errors.Is(err, ErrUsage) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	t.Setenv(PasswordEnv, "S3cret/#?@% x")
	if err := connectFlags(t, &NATSFlags{URL: srv.URL}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), PasswordEnv) {
		t.Errorf("%s without a user: %v, want a usage error naming it", PasswordEnv, err)
	}
}

// TestNATSUserReplacesTheContextsLogin: a user given by flag or
// environment replaces the selected context's authentication as a whole.
func TestNATSUserReplacesTheContextsLogin(t *testing.T) {
	root := isolateNATSContexts(t)
	srv := userServer(t)
	writeContext(t, root, "ops", `{"url": "`+srv.URL+`", "user": "worker", "password": "not-the-password"}`)
	t.Setenv(PasswordEnv, "")
	if err := connectFlags(t, &NATSFlags{Context: "ops"}); !errors.Is(err, ErrConnect) {
		t.Fatalf("the context's wrong password connected: %v", err)
	}
	t.Setenv(PasswordEnv, "S3cret/#?@% x")
	if err := connectFlags(t, &NATSFlags{Context: "ops", User: "worker"}); err != nil {
		t.Fatalf("--nats-user did not replace the context's login: %v", err)
	}
}

// isolateNATSContexts points the nats CLI's configuration at an empty
// directory, so no context of the machine applies.
func isolateNATSContexts(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", root)
	t.Setenv("NATS_CONTEXT", "")
	t.Setenv("SWITCHYARD_NATS_USER", "")
	return root
}
