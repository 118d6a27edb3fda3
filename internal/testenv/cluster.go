package testenv

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSCluster is an embedded JetStream cluster owned by one test: nodes on
// free loopback ports, each with its own store in t.TempDir(), routed to
// each other. Nodes can be stopped and started again on the same port and
// store, so streams with replicas survive them.
type NATSCluster struct {
	t     testing.TB
	Nodes []*NATSServer
	// URL lists every node's client URL, comma-separated, as clients of a
	// cluster are configured.
	URL string
}

// ClusterName is the name of every embedded cluster.
const ClusterName = "switchyard-test"

// NewNATSCluster starts n JetStream nodes (3 for R3 streams) routed to each
// other, waits until the cluster has a JetStream meta leader, and shuts
// every node down when the test ends.
func NewNATSCluster(t testing.TB, n int) *NATSCluster {
	t.Helper()
	clientPorts, routePorts := make([]int, n), make([]int, n)
	var routes []*url.URL
	for i := range n {
		clientPorts[i], routePorts[i] = freePort(t), freePort(t)
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", routePorts[i])})
	}
	c := &NATSCluster{t: t}
	var urls []string
	for i := range n {
		dir := t.TempDir()
		s := &NATSServer{
			t: t,
			opts: server.Options{
				ServerName: fmt.Sprintf("node-%d", i),
				Host:       "127.0.0.1",
				Port:       clientPorts[i],
				JetStream:  true,
				StoreDir:   dir,
				NoLog:      true,
				NoSigs:     true,
				Cluster: server.ClusterOpts{
					Name: ClusterName,
					Host: "127.0.0.1",
					Port: routePorts[i],
				},
				Routes: routes,
			},
			URL:      fmt.Sprintf("nats://127.0.0.1:%d", clientPorts[i]),
			StoreDir: dir,
		}
		c.Nodes = append(c.Nodes, s)
		urls = append(urls, s.URL)
	}
	c.URL = strings.Join(urls, ",")
	for _, s := range c.Nodes {
		s.Start()
		t.Cleanup(s.Shutdown)
	}
	c.WaitMetaLeader(30 * time.Second)
	return c
}

// WaitMetaLeader waits until a running node is the JetStream meta leader
// and every running node knows it.
func (c *NATSCluster) WaitMetaLeader(timeout time.Duration) {
	c.t.Helper()
	Eventually(c.t, timeout, func() (bool, string) {
		leaders := 0
		for _, s := range c.Nodes {
			if s.srv == nil {
				continue
			}
			if !s.srv.JetStreamIsCurrent() {
				return false, s.opts.ServerName + " is not current"
			}
			if s.srv.JetStreamIsLeader() {
				leaders++
			}
		}
		return leaders == 1, fmt.Sprintf("%d meta leaders", leaders)
	}, "a JetStream meta leader")
}

// Connect opens a client connection to every node that reconnects forever
// and is closed when the test ends.
func (c *NATSCluster) Connect() (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	nc, err := nats.Connect(c.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		c.t.Fatalf("connect to the embedded cluster: %v", err)
	}
	c.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// StreamLeader returns the running node leading stream (of the global
// account), or nil when none does at the moment.
func (c *NATSCluster) StreamLeader(stream string) *NATSServer {
	for _, s := range c.Nodes {
		if s.srv != nil && s.srv.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return s
		}
	}
	return nil
}

// WaitStreamLeader waits until some running node other than not leads
// stream, and returns it (not may be nil).
func (c *NATSCluster) WaitStreamLeader(stream string, not *NATSServer, timeout time.Duration) *NATSServer {
	c.t.Helper()
	var leader *NATSServer
	Eventually(c.t, timeout, func() (bool, string) {
		leader = c.StreamLeader(stream)
		return leader != nil && leader != not, "no new leader of " + stream
	}, "a leader of stream "+stream)
	return leader
}

// Name is the node's server name.
func (s *NATSServer) Name() string { return s.opts.ServerName }
