package testenv

import (
	"fmt"
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
