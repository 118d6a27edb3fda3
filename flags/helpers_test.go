package flags_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeGateSource answers gate questions from fields a test sets.
type fakeGateSource struct {
	mu           sync.Mutex
	backfillDone bool
	dirty        map[string]string // client -> verify detail
}

func (f *fakeGateSource) BackfillComplete(context.Context) (bool, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.backfillDone {
		return true, "all entities copied", nil
	}
	return false, "backfill still running", nil
}

func (f *fakeGateSource) ClientVerifyClean(_ context.Context, client string) (bool, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.dirty[client]; ok {
		return false, d, nil
	}
	return true, "verify clean", nil
}

type fakeShadow map[string]flags.ShadowCounts

func (f fakeShadow) ClientStats(_ context.Context, client string) (flags.ShadowCounts, error) {
	return f[client], nil
}

type storeEnv struct {
	nats  *testenv.NATSServer
	js    jetstream.JetStream
	store *flags.Store
	audit *flags.AuditLog
	gates *fakeGateSource
}

func newStoreEnv(t testing.TB) *storeEnv {
	t.Helper()
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx := testCtx(t)
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeGateSource{backfillDone: true, dirty: map[string]string{}}
	shadow := fakeShadow{}
	gates := flags.NewGates(flags.GatesConfig{Source: src, Shadow: shadow})
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Audit: audit, Gates: gates})
	if err != nil {
		t.Fatal(err)
	}
	return &storeEnv{nats: srv, js: js, store: store, audit: audit, gates: src}
}
