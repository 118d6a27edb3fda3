package quickstart

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startBroker starts an embedded JetStream server that keeps its data under
// dir/nats, listening on loopback only.
func startBroker(dir string, port int) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "switchyard-dev",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(dir, "nats"),
		NoSigs:     true,
		NoLog:      true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS on 127.0.0.1:%d did not become ready (is the port taken?)", port)
	}
	return srv, nil
}
