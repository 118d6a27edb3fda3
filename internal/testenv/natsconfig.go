package testenv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSWithConfig starts an embedded server from a nats-server
// configuration file (accounts, users, permissions), on a free loopback port
// with its JetStream store in t.TempDir() whatever the file says. The
// file's $VARIABLES resolve from the environment, so set them (t.Setenv)
// before calling. It shuts the server down when the test ends.
func NATSWithConfig(t testing.TB, path string) *NATSServer {
	t.Helper()
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server configuration %s: %v", path, err)
	}
	dir := t.TempDir()
	port := freePort(t)
	opts.Host, opts.Port = "127.0.0.1", port
	opts.HTTPHost, opts.HTTPPort = "", 0
	opts.StoreDir = dir
	opts.JetStream = true
	opts.NoLog, opts.NoSigs = true, true
	s := &NATSServer{t: t, opts: *opts, URL: fmt.Sprintf("nats://127.0.0.1:%d", port), StoreDir: dir}
	s.Start()
	t.Cleanup(s.Shutdown)
	return s
}

// ShippedNATSUsers are the users of deploy/nats/switchyard.conf: admin,
// for setup, and one per role Switchyard processes run as.
var ShippedNATSUsers = []string{"admin", "console", "flags_cli", "read_api", "read_api_autorollback", "worker", "backfill", "verify"}

// ShippedNATSPassword is the password NATSWithShippedConfig gives user.
func ShippedNATSPassword(user string) string { return "pw-" + user + "-Zq9" }

// NATSWithShippedConfig starts an embedded server from the shipped
// deploy/nats/switchyard.conf (path, relative to the calling test), each
// user's password set to ShippedNATSPassword(user).
func NATSWithShippedConfig(t *testing.T, path string) *NATSServer {
	t.Helper()
	for _, u := range ShippedNATSUsers {
		t.Setenv("SWITCHYARD_NATS_"+strings.ToUpper(u)+"_PASSWORD", ShippedNATSPassword(u))
	}
	return NATSWithConfig(t, path)
}
