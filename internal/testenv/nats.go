package testenv

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSServer is an embedded JetStream server owned by one test.
type NATSServer struct {
	t        testing.TB
	opts     server.Options
	srv      *server.Server
	URL      string
	StoreDir string
}

// NATS starts an embedded JetStream server on a free loopback port with its
// store in t.TempDir(), and shuts it down when the test ends.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	s := &NATSServer{
		t: t,
		opts: server.Options{
			Host:      "127.0.0.1",
			Port:      port,
			JetStream: true,
			StoreDir:  dir,
			NoLog:     true,
			NoSigs:    true,
		},
		URL:      fmt.Sprintf("nats://127.0.0.1:%d", port),
		StoreDir: dir,
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	return s
}

// Start starts the server (again) on the same port and store.
func (s *NATSServer) Start() {
	s.t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("embedded NATS: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.t.Fatalf("embedded NATS on %s did not become ready", s.URL)
	}
	s.srv = srv
}

// Shutdown stops the server and waits until it is down. The store is kept,
// so Start brings back every stream and consumer.
func (s *NATSServer) Shutdown() {
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
}

// Restart stops and starts the server on the same port and store.
func (s *NATSServer) Restart() {
	s.t.Helper()
	s.Shutdown()
	s.Start()
}

// Server returns the running server.
func (s *NATSServer) Server() *server.Server { return s.srv }

// Connect opens a client connection that reconnects forever and is closed
// when the test ends.
func (s *NATSServer) Connect() (*nats.Conn, jetstream.JetStream) {
	s.t.Helper()
	return connect(s.t, s.URL)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int { return freePort(t) }

// connect opens a client connection to urls (comma-separated) that
// reconnects forever and is closed when the test ends.
func connect(t testing.TB, urls string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	all := append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(urls, all...)
	if err != nil {
		t.Fatalf("connect to embedded NATS at %s: %v", urls, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}
