package reads_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The helpers below are those of the flags tests: the router reads the
// stages a real flag store and provider serve.

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

// eventLog collects provider events delivered through the SDK.
type eventLog struct {
	mu     sync.Mutex
	counts map[openfeature.EventType]int
}

func (l *eventLog) handler(t openfeature.EventType) openfeature.EventCallback {
	cb := func(openfeature.EventDetails) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.counts[t]++
	}
	return &cb
}

func (l *eventLog) count(t openfeature.EventType) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[t]
}

// startProvider registers a provider on an isolated OpenFeature API and
// returns its client; setErr is what SetProviderAndWait returned.
func startProvider(t testing.TB, js jetstream.JetStream, cfg flags.ProviderConfig) (*flags.Provider, *openfeature.Client, *eventLog, error) {
	t.Helper()
	api := isolated.NewAPI()
	p := flags.NewProvider(js, cfg)
	client := api.NewClient()
	log := &eventLog{counts: map[openfeature.EventType]int{}}
	for _, et := range []openfeature.EventType{openfeature.ProviderReady, openfeature.ProviderConfigChange, openfeature.ProviderStale, openfeature.ProviderError} {
		client.AddHandler(et, log.handler(et))
	}
	err := api.SetProviderAndWait(testCtx(t), p)
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	return p, client, log, err
}

func stageOf(t testing.TB, c *openfeature.Client, client string) openfeature.StringEvaluationDetails {
	t.Helper()
	d, err := c.StringValueDetails(context.Background(), flags.FlagKey, "legacy", openfeature.NewEvaluationContext(client, nil))
	if err != nil {
		t.Fatalf("evaluate %q: %v", client, err)
	}
	return d
}
