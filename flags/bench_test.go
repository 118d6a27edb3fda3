package flags_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/reads"
)

// BenchmarkEvaluate measures one warm read-stage evaluation against a model
// of 500 overrides and a 25 % rollout: straight on the provider, and
// through the OpenFeature client as applications call it.
func BenchmarkEvaluate(b *testing.B) {
	env := flagstest.NewStoreEnv(b)
	ctx := context.Background()
	for i := range 500 {
		c := fmt.Sprintf("client-%05d", i)
		if _, err := env.Store.SetStage(ctx, flags.Change{Client: c, Stage: flags.StageShadow, Reason: "bench", Actor: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := env.Store.SetRollout(ctx, flags.ConfigChange{Stage: flags.StageShadow, Reason: "bench", Actor: "bench"}, 2500); err != nil {
		b.Fatal(err)
	}
	api := isolated.NewAPI()
	p := flags.NewProvider(env.JS, flags.ProviderConfig{})
	if err := api.SetProviderAndWait(ctx, p); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = api.Shutdown(ctx) }()

	clients := []string{"client-00001", "someone-else", "another-one", "client-00042"}
	b.Run("provider", func(b *testing.B) {
		fcs := make([]openfeature.FlattenedContext, len(clients))
		for i, c := range clients {
			fcs[i] = openfeature.FlattenedContext{openfeature.TargetingKey: c}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			d := p.StringEvaluation(ctx, flags.FlagKey, "legacy", fcs[i%len(fcs)])
			if d.Variant == "" {
				b.Fatal("no variant")
			}
			i++
		}
	})
	b.Run("provider-as-evaluator", func(b *testing.B) {
		ecs := make([]openfeature.EvaluationContext, len(clients))
		for i, c := range clients {
			ecs[i] = openfeature.NewEvaluationContext(c, nil)
		}
		var ev reads.StageEvaluator = p
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := ev.StringValueDetails(ctx, flags.FlagKey, "legacy", ecs[i%len(ecs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("openfeature-client", func(b *testing.B) {
		client := api.NewClient()
		ecs := make([]openfeature.EvaluationContext, len(clients))
		for i, c := range clients {
			ecs[i] = openfeature.NewEvaluationContext(c, nil)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := client.StringValueDetails(ctx, flags.FlagKey, "legacy", ecs[i%len(ecs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkPropagation measures how long a flag change takes to reach five
// providers, each on its own NATS connection and OpenFeature API, from the
// call that makes the change to each provider's
// PROVIDER_CONFIGURATION_CHANGED. Run it with -benchtime=200x for 200
// changes; it reports p50 and p99 in milliseconds.
func BenchmarkPropagation(b *testing.B) {
	const providers = 5
	env := flagstest.NewStoreEnv(b)
	ctx := context.Background()
	arrivals := make([]chan arrival, providers)
	for i := range providers {
		_, js := env.NATS.Connect()
		api := isolated.NewAPI()
		p := flags.NewProvider(js, flags.ProviderConfig{})
		if err := api.SetProviderAndWait(ctx, p); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = api.Shutdown(ctx) })
		ch := make(chan arrival, 1024)
		arrivals[i] = ch
		cb := func(d openfeature.EventDetails) {
			rev, _ := d.EventMetadata["revision"].(uint64)
			ch <- arrival{rev: rev, at: time.Now()}
		}
		api.NewClient().AddHandler(openfeature.ProviderConfigChange, &cb)
	}
	var lat []time.Duration
	stages := []flags.Stage{flags.StageShadow, flags.StageLegacy}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := env.Store.SetStage(ctx, flags.Change{Client: "bench-client", Stage: stages[i%2], Reason: "propagation benchmark", Actor: "bench", ExpectedRevision: flags.AnyRevision})
		if err != nil {
			b.Fatal(err)
		}
		for _, ch := range arrivals {
			deadline := time.After(10 * time.Second)
		wait:
			for {
				select {
				case a := <-ch:
					if a.rev >= res.Revision {
						lat = append(lat, a.at.Sub(start))
						break wait
					}
				case <-deadline:
					b.Fatalf("change %d (revision %d) did not reach a provider within 10s", i, res.Revision)
				}
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)*50/100], lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.Logf("%d changes x %d providers: p50 %v, p99 %v, max %v", b.N, providers, p50, p99, lat[len(lat)-1])
}

type arrival struct {
	rev uint64
	at  time.Time
}
