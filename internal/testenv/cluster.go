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
// each other. Nodes can be stopped (Shutdown) and started again (Start) on
// the same port and store, so they come back as the same raft peers with
// the streams they held.
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

// WaitMetaLeader waits until a running node is the JetStream meta leader,
// every running node knows it, and the leader counts every running node as
// an online peer. Call it after starting a node again. The last condition
// matters: until the leader has a node's first statistics it places no
// replica there, and an R3 stream created right after start-up fails with
// "no suitable peers for placement".
func (c *NATSCluster) WaitMetaLeader(timeout time.Duration) {
	c.t.Helper()
	Eventually(c.t, timeout, func() (bool, string) {
		var leader *NATSServer
		running := 0
		for _, s := range c.Nodes {
			if s.srv == nil {
				continue
			}
			running++
			if !s.srv.JetStreamIsCurrent() {
				return false, s.opts.ServerName + " is not current"
			}
			if s.srv.JetStreamIsLeader() {
				if leader != nil {
					return false, "two meta leaders"
				}
				leader = s
			}
		}
		if leader == nil {
			return false, "no meta leader"
		}
		if peers := leader.srv.JetStreamClusterPeers(); len(peers) < running {
			return false, fmt.Sprintf("the meta leader sees %d of %d running nodes online (%v)", len(peers), running, peers)
		}
		return true, ""
	}, "a JetStream meta leader")
}

// Connect opens a client connection to every node that reconnects forever
// and is closed when the test ends. Extra options are applied last.
func (c *NATSCluster) Connect(opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	return connect(c.t, c.URL, opts...)
}

// ConnectTo is Connect with node's URL tried first, so that the client is
// connected to node while it runs and fails over to the others when it
// stops.
func (c *NATSCluster) ConnectTo(node *NATSServer, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	urls := []string{node.URL}
	for _, s := range c.Nodes {
		if s != node {
			urls = append(urls, s.URL)
		}
	}
	return connect(c.t, strings.Join(urls, ","), append([]nats.Option{nats.DontRandomize()}, opts...)...)
}

// StreamLeader returns the running node leading stream (of the global
// account), or nil when none does at the moment. A key-value bucket's
// stream is "KV_" + its name.
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

// WaitCurrent waits until stream has a leader and every running node's
// copy of it is current and holds at least what the leader held when the
// wait began: a node started again has caught up, so stopping another one
// next still leaves a quorum holding every acknowledged message.
func (c *NATSCluster) WaitCurrent(stream string, timeout time.Duration) {
	c.t.Helper()
	leader := c.WaitStreamLeader(stream, nil, timeout)
	want, err := leader.LastSeq(stream)
	if err != nil {
		c.t.Fatalf("stream %s: %v", stream, err)
	}
	Eventually(c.t, timeout, func() (bool, string) {
		var behind []string
		for _, s := range c.Nodes {
			if s.srv == nil {
				continue
			}
			last, err := s.LastSeq(stream)
			if err != nil || last < want || !s.srv.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
				behind = append(behind, fmt.Sprintf("%s at %d (%v)", s.Name(), last, err))
			}
		}
		return c.StreamLeader(stream) != nil && len(behind) == 0, fmt.Sprintf("nodes behind sequence %d: %v", want, behind)
	}, "every running copy of stream "+stream+" current")
}

// Name is the node's server name.
func (s *NATSServer) Name() string { return s.opts.ServerName }

// LastSeq returns the last sequence of stream in this node's own copy (not
// the leader's answer a client would get), so a test can see that a node
// started again caught up. It fails when the node is stopped or holds no
// copy.
func (s *NATSServer) LastSeq(stream string) (uint64, error) {
	if s.srv == nil {
		return 0, fmt.Errorf("node %s is stopped", s.Name())
	}
	info, err := s.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return 0, fmt.Errorf("node %s: %w", s.Name(), err)
	}
	for _, acc := range info.AccountDetails {
		for _, st := range acc.Streams {
			if acc.Name == server.DEFAULT_GLOBAL_ACCOUNT && st.Name == stream {
				return st.State.LastSeq, nil
			}
		}
	}
	return 0, fmt.Errorf("node %s holds no copy of stream %s", s.Name(), stream)
}
