package migrationstatus

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/flagsadapter"
	"github.com/switchyard/switchyard/internal/controlplane"
)

// Enabled says whether per-client verifies are asked for: any of the
// stores or entities is given.
func (s VerifierStores) Enabled() bool {
	return s.LegacyDSN != "" || s.TargetDSN != "" || len(s.Entities) > 0
}

// Deps returns what the console serves from over an open control plane:
// the flag store with the read routers' mismatch samples, the migration
// status (with the subscriptions of s.Stream) and, when s is Enabled, a
// per-client verifier over s's stores. Users are left to the caller. The
// returned function stops the verifier and closes its stores.
func Deps(ctx context.Context, js jetstream.JetStream, cp *controlplane.ControlPlane, s VerifierStores, log *slog.Logger) (console.Deps, func(), error) {
	deps := console.Deps{
		Flags:  flagsadapter.New(cp.Flags, cp.Shadow).WithSampleLog(cp.Samples),
		Status: &Source{State: cp.State, JS: js, Stream: s.Stream, Flags: cp.Flags},
		Log:    log,
	}
	if !s.Enabled() {
		return deps, func() {}, nil
	}
	s.JS = js
	v, closeVerifier, err := OpenVerifier(ctx, s, cp.State, cp.Audit, log)
	if err != nil {
		return console.Deps{}, nil, err
	}
	deps.Verifier = v
	return deps, closeVerifier, nil
}
