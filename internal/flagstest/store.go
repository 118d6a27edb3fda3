package flagstest

import (
	"context"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// GateSource answers gate questions from fields a test sets.
type GateSource struct {
	mu           sync.Mutex
	BackfillDone bool
	Dirty        map[string]string // client -> verify detail
}

// BackfillComplete implements flags.GateSource.
func (f *GateSource) BackfillComplete(context.Context) (bool, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.BackfillDone {
		return true, "all entities copied", nil
	}
	return false, "backfill still running", nil
}

// ClientVerifyClean implements flags.GateSource.
func (f *GateSource) ClientVerifyClean(_ context.Context, client string) (bool, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.Dirty[client]; ok {
		return false, d, nil
	}
	return true, "verify clean", nil
}

// Shadow serves fixed shadow read counters per client.
type Shadow map[string]flags.ShadowCounts

// ClientStats implements flags.ShadowSource.
func (f Shadow) ClientStats(_ context.Context, client string) (flags.ShadowCounts, error) {
	return f[client], nil
}

// StoreEnv is a flag store with its audit log on an embedded JetStream
// server, its gates answering from Gates and an empty Shadow.
type StoreEnv struct {
	NATS  *testenv.NATSServer
	JS    jetstream.JetStream
	Store *flags.Store
	Audit *flags.AuditLog
	Gates *GateSource
}

// NewStoreEnv starts the server and opens the store; the backfill is
// complete and every client verifies clean until the test says otherwise.
func NewStoreEnv(t testing.TB) *StoreEnv {
	t.Helper()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := testenv.Context(t)
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	src := &GateSource{BackfillDone: true, Dirty: map[string]string{}}
	gates := flags.NewGates(flags.GatesConfig{Source: src, Shadow: Shadow{}})
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Audit: audit, Gates: gates})
	if err != nil {
		t.Fatal(err)
	}
	return &StoreEnv{NATS: srv, JS: js, Store: store, Audit: audit, Gates: src}
}
