package testenv

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ClusterSize is the number of nodes of a NATSCluster: the smallest cluster
// that keeps an R3 stream writable with one node down.
const ClusterSize = 3

// clusterReadyTimeout bounds every wait for the cluster (start, elections,
// catching up). Elections take a few seconds; a loaded machine adds more.
const clusterReadyTimeout = 60 * time.Second

// ClusterNode is one node of a NATSCluster. Its ports and store are fixed
// for the life of the test, so a restarted node comes back as the same
// raft peer with the streams it held.
type ClusterNode struct {
	Name     string
	URL      string
	StoreDir string
	opts     server.Options
	srv      *server.Server
}

// Running reports whether the node is up.
func (n *ClusterNode) Running() bool { return n.srv != nil }

// Server returns the running server, nil while the node is stopped.
func (n *ClusterNode) Server() *server.Server { return n.srv }

// NATSCluster is an embedded three-node JetStream cluster owned by one test:
// every node in this process, on loopback ports, with its own store in
// t.TempDir(), routed to the two others.
type NATSCluster struct {
	t     testing.TB
	Name  string
	Nodes []*ClusterNode
}

// NewNATSCluster starts a three-node JetStream cluster, waits until its
// JetStream meta leader is elected and every node follows it, and shuts
// every node down when the test ends.
func NewNATSCluster(t testing.TB) *NATSCluster {
	t.Helper()
	c := &NATSCluster{t: t, Name: "switchyard-test"}
	clientPorts, routePorts := make([]int, ClusterSize), make([]int, ClusterSize)
	for i := range ClusterSize {
		clientPorts[i], routePorts[i] = freePort(t), freePort(t)
	}
	for i := range ClusterSize {
		var routes []string
		for j, p := range routePorts {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		name := fmt.Sprintf("n%d", i+1)
		dir := t.TempDir()
		c.Nodes = append(c.Nodes, &ClusterNode{
			Name:     name,
			URL:      fmt.Sprintf("nats://127.0.0.1:%d", clientPorts[i]),
			StoreDir: dir,
			opts: server.Options{
				ServerName: name,
				Host:       "127.0.0.1",
				Port:       clientPorts[i],
				JetStream:  true,
				StoreDir:   dir,
				Cluster:    server.ClusterOpts{Name: c.Name, Host: "127.0.0.1", Port: routePorts[i]},
				Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
				NoLog:      true,
				NoSigs:     true,
			},
		})
	}
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			c.shutdown(n)
		}
	})
	for _, n := range c.Nodes {
		c.start(n)
	}
	c.WaitReady()
	return c
}

// URLs returns the client URLs of every node, comma-separated, as NATS
// clients (and switchyard's --nats) take them.
func (c *NATSCluster) URLs() string {
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = n.URL
	}
	return strings.Join(urls, ",")
}

func (c *NATSCluster) start(n *ClusterNode) {
	c.t.Helper()
	opts := n.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		c.t.Fatalf("embedded NATS node %s: %v", n.Name, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(clusterReadyTimeout) {
		srv.Shutdown()
		c.t.Fatalf("embedded NATS node %s on %s did not accept connections within %v", n.Name, n.URL, clusterReadyTimeout)
	}
	n.srv = srv
}

func (c *NATSCluster) shutdown(n *ClusterNode) {
	if n.srv == nil {
		return
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	n.srv = nil
}

// Stop shuts node down and waits until it is gone. Its store is kept.
func (c *NATSCluster) Stop(n *ClusterNode) {
	c.t.Helper()
	if !n.Running() {
		c.t.Fatalf("node %s is already stopped", n.Name)
	}
	c.shutdown(n)
}

// Start starts a stopped node again on its ports and store, and waits until
// it follows the JetStream meta leader. Its streams may still be catching
// up: see WaitCurrent.
func (c *NATSCluster) Start(n *ClusterNode) {
	c.t.Helper()
	if n.Running() {
		c.t.Fatalf("node %s is already running", n.Name)
	}
	c.start(n)
	c.WaitReady()
}

// Restart stops and starts node.
func (c *NATSCluster) Restart(n *ClusterNode) {
	c.t.Helper()
	c.Stop(n)
	c.Start(n)
}

// running returns the nodes that are up.
func (c *NATSCluster) running() []*ClusterNode {
	var up []*ClusterNode
	for _, n := range c.Nodes {
		if n.Running() {
			up = append(up, n)
		}
	}
	return up
}

// WaitReady waits until exactly one running node is the JetStream meta
// leader and every running node is current with it.
func (c *NATSCluster) WaitReady() {
	c.t.Helper()
	Eventually(c.t, clusterReadyTimeout, func() (bool, string) {
		var leaders, behind []string
		for _, n := range c.running() {
			if n.srv.JetStreamIsLeader() {
				leaders = append(leaders, n.Name)
			}
			if !n.srv.JetStreamIsCurrent() {
				behind = append(behind, n.Name)
			}
		}
		return len(leaders) == 1 && len(behind) == 0,
			fmt.Sprintf("meta leaders %v, nodes not current %v", leaders, behind)
	}, "JetStream cluster "+c.Name+" ready")
}

// StreamLeader returns the running node that leads stream (in the default
// account), or nil while none does, as during an election. A key-value
// bucket's stream is "KV_" + its name.
func (c *NATSCluster) StreamLeader(stream string) *ClusterNode {
	for _, n := range c.running() {
		if n.srv.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return n
		}
	}
	return nil
}

// WaitStreamLeader waits until a running node leads stream and returns it.
func (c *NATSCluster) WaitStreamLeader(stream string) *ClusterNode {
	c.t.Helper()
	var leader *ClusterNode
	Eventually(c.t, clusterReadyTimeout, func() (bool, string) {
		leader = c.StreamLeader(stream)
		return leader != nil, "no leader"
	}, "a leader for stream "+stream)
	return leader
}

// WaitCurrent waits until stream has a leader and every running node's
// copy of it is current and holds at least what the leader held when the
// wait began (a restarted node has caught up), so that stopping another
// node next keeps a quorum that holds every acknowledged message.
func (c *NATSCluster) WaitCurrent(stream string) {
	c.t.Helper()
	leader := c.WaitStreamLeader(stream)
	want, err := leader.LastSeq(stream)
	if err != nil {
		c.t.Fatalf("stream %s: %v", stream, err)
	}
	Eventually(c.t, clusterReadyTimeout, func() (bool, string) {
		var behind []string
		for _, n := range c.running() {
			last, err := n.LastSeq(stream)
			if err != nil || last < want || !n.srv.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
				behind = append(behind, fmt.Sprintf("%s at %d (%v)", n.Name, last, err))
			}
		}
		return c.StreamLeader(stream) != nil && len(behind) == 0,
			fmt.Sprintf("leader %s, nodes behind sequence %d: %v", nodeName(c.StreamLeader(stream)), want, behind)
	}, "every running copy of stream "+stream+" current")
}

func nodeName(n *ClusterNode) string {
	if n == nil {
		return "none"
	}
	return n.Name
}

// Connect opens a client connection to every node (it fails over between
// them and reconnects forever), closed when the test ends. Extra options
// are applied last.
func (c *NATSCluster) Connect(opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	return connect(c.t, c.URLs(), opts...)
}

// ConnectTo is Connect with node's URL tried first.
func (c *NATSCluster) ConnectTo(node *ClusterNode, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	urls := []string{node.URL}
	for _, n := range c.Nodes {
		if n != node {
			urls = append(urls, n.URL)
		}
	}
	return connect(c.t, strings.Join(urls, ","), append([]nats.Option{nats.DontRandomize()}, opts...)...)
}

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

// LastSeq returns the last sequence of stream in node's own copy (not the
// leader's answer a client would get), so a test can see that a restarted
// node caught up. It fails when the node is stopped or holds no copy.
func (n *ClusterNode) LastSeq(stream string) (uint64, error) {
	if n.srv == nil {
		return 0, fmt.Errorf("node %s is stopped", n.Name)
	}
	info, err := n.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return 0, fmt.Errorf("node %s: %w", n.Name, err)
	}
	for _, acc := range info.AccountDetails {
		for _, st := range acc.Streams {
			if acc.Name == server.DEFAULT_GLOBAL_ACCOUNT && st.Name == stream {
				return st.State.LastSeq, nil
			}
		}
	}
	return 0, fmt.Errorf("node %s holds no copy of stream %s", n.Name, stream)
}
