package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestStartChecksBeforeConnecting: a bad log flag or a failing Check is a
// usage error, in that order, and nothing is dialled; a server that is not
// there is a *ConnectError.
func TestStartChecksBeforeConnecting(t *testing.T) {
	nf := NATSFlags{URL: "nats://127.0.0.1:1", ConnectTimeout: 200 * time.Millisecond}
	check := func() error { return CheckReplicas(7) }
	_, _, _, err := nf.Start(context.Background(), Session{LogLevel: "loud", Log: io.Discard, Check: check})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "log level") {
		t.Fatalf("bad log level: %v", err)
	}
	_, _, _, err = nf.Start(context.Background(), Session{LogLevel: "info", Log: io.Discard, Check: check})
	if !errors.Is(err, ErrUsage) || err.Error() != "--replicas 7 must be 1 to 5" {
		t.Fatalf("bad replicas: %v", err)
	}
	_, _, _, err = nf.Start(context.Background(), Session{Name: "switchyard test", LogLevel: "info", Log: io.Discard})
	if !errors.Is(err, ErrConnect) || nf.Name != "switchyard test" {
		t.Fatalf("closed port: %v (name %q)", err, nf.Name)
	}
	for _, n := range []int{1, 3, 5} {
		if err := CheckReplicas(n); err != nil {
			t.Errorf("%d replicas: %v", n, err)
		}
	}
}
