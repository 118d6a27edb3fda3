package ops

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
)

// NATSConnected is the readiness check of a NATS connection: ready while it
// is connected (not reconnecting, not closed).
func NATSConnected(name string, nc *nats.Conn) Check {
	return Check{Name: name, Probe: func(context.Context) error {
		if st := nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("NATS connection is %s", st)
		}
		return nil
	}}
}

// Pinger is anything with a reachability probe, such as a stores.Store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Ping is the readiness check of a Pinger.
func Ping(name string, p Pinger) Check {
	return Check{Name: name, Probe: p.Ping}
}
