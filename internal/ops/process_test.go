package ops_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/ops"
)

func TestServeListensAndStops(t *testing.T) {
	reg := ops.NewProcessRegistry()
	s, err := ops.Serve(ops.Config{Addr: "127.0.0.1:0", Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, "http://"+s.Addr()+"/metrics")
	if code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_") {
		t.Fatalf("metrics: %d %q", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Stop(ctx) // an ended ctx still shuts down in order
	if _, err := net.Dial("tcp", s.Addr()); err == nil {
		t.Fatal("still listening after Stop")
	}
}

func TestServeWithoutAddressNeverListens(t *testing.T) {
	s, err := ops.Serve(ops.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != "" {
		t.Fatalf("listening on %s", s.Addr())
	}
	s.SetDraining()
	s.Stop(context.Background())
}

func TestServeListenFailureIsTyped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = ops.Serve(ops.Config{Addr: ln.Addr().String()})
	if !errors.Is(err, ops.ErrListen) || !strings.HasPrefix(err.Error(), "ops server: listen on ") {
		t.Fatalf("got %v", err)
	}
	if _, err := ops.Serve(ops.Config{Checks: []ops.Check{{Name: "x"}}}); err == nil || errors.Is(err, ops.ErrListen) {
		t.Fatalf("a bad config: got %v", err)
	}
}
