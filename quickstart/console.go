package quickstart

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/flagsadapter"
	"github.com/switchyard/switchyard/console/migrationstatus"
	"github.com/switchyard/switchyard/internal/controlplane"
)

// demoUsers are the console's users in the quickstart.
var demoUsers = []struct {
	name string
	role console.Role
}{{"operator", console.RoleOperator}, {"viewer", console.RoleViewer}}

// startConsole serves the support console on cfg.ConsoleAddr with the demo
// users and returns their passwords (name → password). The console shows the
// mismatching keys the read demo's router sampled.
func startConsole(ctx context.Context, cfg Config, js jetstream.JetStream, cp *controlplane.ControlPlane, mismatches flagsadapter.MismatchSource,
	spawn func(string, func(context.Context) error)) (map[string]string, error) {
	passwords, err := demoPasswords(filepath.Join(cfg.Dir, "console-passwords"))
	if err != nil {
		return nil, err
	}
	list := make([]console.User, 0, len(demoUsers))
	for _, u := range demoUsers {
		// The lowest bcrypt cost keeps the start quick; these are demo users
		// on loopback with passwords kept in a local file.
		hash, err := console.HashPassword(passwords[u.name], console.MinBcryptCost)
		if err != nil {
			return nil, err
		}
		list = append(list, console.User{Name: u.name, Role: u.role, PasswordHash: hash})
	}
	users, err := console.NewUsers(list)
	if err != nil {
		return nil, err
	}
	handler, err := console.New(console.Deps{
		Flags:  flagsadapter.New(cp.Flags, cp.Shadow).WithMismatches(mismatches),
		Status: &migrationstatus.Source{State: cp.State, JS: js, Stream: Stream, Flags: cp.Flags},
		Users:  users,
		Log:    cfg.Log.With("component", "console"),
	}, console.Options{InsecureCookies: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.ConsoleAddr)
	if err != nil {
		return nil, fmt.Errorf("console on %s: %w (choose another address with --console, or --console off)", cfg.ConsoleAddr, err)
	}
	srv := &http.Server{Handler: handler, ErrorLog: slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn)}
	spawn("console", func(ctx context.Context) error { return console.Serve(ctx, srv, ln, 5*time.Second) })
	return passwords, nil
}

// demoPasswords reads the demo users' passwords from path, or makes new
// random ones and keeps them there (mode 0600), so a second run keeps them.
func demoPasswords(path string) (map[string]string, error) {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		for _, line := range strings.Split(string(b), "\n") {
			if name, pw, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
				out[name] = pw
			}
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("console passwords: %w", err)
	}
	var text strings.Builder
	changed := false
	for _, u := range demoUsers {
		if out[u.name] == "" {
			var buf [9]byte
			if _, err := rand.Read(buf[:]); err != nil {
				return nil, err
			}
			out[u.name] = base64.RawURLEncoding.EncodeToString(buf[:])
			changed = true
		}
		fmt.Fprintf(&text, "%s %s\n", u.name, out[u.name])
	}
	if changed {
		if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
			return nil, fmt.Errorf("console passwords: %w", err)
		}
	}
	return out, nil
}
