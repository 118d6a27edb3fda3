package flagstest

import (
	"context"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// EventLog counts the provider events delivered through the SDK.
type EventLog struct {
	mu     sync.Mutex
	counts map[openfeature.EventType]int
}

func (l *EventLog) handler(t openfeature.EventType) openfeature.EventCallback {
	cb := func(openfeature.EventDetails) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.counts[t]++
	}
	return &cb
}

// Count returns how many events of type t were delivered.
func (l *EventLog) Count(t openfeature.EventType) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[t]
}

// StartProvider registers a provider on an isolated OpenFeature API and
// returns its client; the error is what SetProviderAndWait returned.
func StartProvider(t testing.TB, js jetstream.JetStream, cfg flags.ProviderConfig) (*flags.Provider, *openfeature.Client, *EventLog, error) {
	t.Helper()
	api := isolated.NewAPI()
	p := flags.NewProvider(js, cfg)
	client := api.NewClient()
	log := &EventLog{counts: map[openfeature.EventType]int{}}
	for _, et := range []openfeature.EventType{openfeature.ProviderReady, openfeature.ProviderConfigChange, openfeature.ProviderStale, openfeature.ProviderError} {
		client.AddHandler(et, log.handler(et))
	}
	err := api.SetProviderAndWait(testenv.Context(t), p)
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	return p, client, log, err
}

// StageOf evaluates client's read stage through c.
func StageOf(t testing.TB, c *openfeature.Client, client string) openfeature.StringEvaluationDetails {
	t.Helper()
	d, err := c.StringValueDetails(context.Background(), flags.FlagKey, "legacy", openfeature.NewEvaluationContext(client, nil))
	if err != nil {
		t.Fatalf("evaluate %q: %v", client, err)
	}
	return d
}
