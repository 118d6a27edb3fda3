package pipelinetest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// tcpProxy forwards a loopback port to a target address. Stop refuses new
// connections and cuts the open ones, as a database that went away would;
// Start accepts again on the same port. DropReplies makes it a one-way
// partition.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	// dropReplies discards what the target sends back.
	dropReplies atomic.Bool

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's loopback address.
func (p *tcpProxy) Addr() string { return p.addr }

// Start listens again on the proxy's address.
func (p *tcpProxy) Start() {
	p.t.Helper()
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.dropReplies.Store(false)
	p.serve(l)
}

func (p *tcpProxy) serve(l net.Listener) {
	p.mu.Lock()
	p.listener = l
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := l.Accept()
			if err != nil {
				return // listener closed by Stop
			}
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				continue
			}
			if !p.track(client, server) {
				return
			}
			p.wg.Add(2)
			go p.pipe(client, server, &p.dropReplies)
			go p.pipe(server, client, nil)
		}
	}()
}

// track registers a connection pair unless the proxy was stopped meanwhile.
func (p *tcpProxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener == nil {
		a.Close()
		b.Close()
		return false
	}
	p.conns[a], p.conns[b] = struct{}{}, struct{}{}
	return true
}

// pipe copies src to dst until either is closed, discarding what it reads
// while drop (when not nil) is set.
func (p *tcpProxy) pipe(dst, src net.Conn, drop *atomic.Bool) {
	defer p.wg.Done()
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 && (drop == nil || !drop.Load()) {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// A read error is a cut connection, which is the point of the
			// proxy.
			return
		}
	}
}

// DropReplies makes the proxy forward what clients send while discarding
// what the target answers, from now until Stop cuts the connections: the
// client's requests reach the server and are carried out, but the client
// never learns their outcome.
func (p *tcpProxy) DropReplies() { p.dropReplies.Store(true) }

// Stop closes the listener and every open connection, and waits until the
// forwarding goroutines are gone.
func (p *tcpProxy) Stop() {
	p.mu.Lock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
}
