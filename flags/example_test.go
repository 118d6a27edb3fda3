package flags_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/stores/all"
)

// An application reads through the router; the OpenFeature provider keeps
// the read stages current, and the shadow counters and client registry are
// shared with the gates and the console through NATS.
func ExampleNewRouter() {
	ctx := context.Background()
	nc, err := nats.Connect(nats.DefaultURL)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)

	provider := flags.NewProvider(js, flags.ProviderConfig{})
	if err := openfeature.SetProviderAndWait(provider); err != nil {
		log.Printf("flags not loaded yet, reads use legacy until they are: %v", err)
	}
	shadow, err := flags.OpenShadowStats(ctx, js, flags.ShadowStatsConfig{})
	if err != nil {
		log.Fatal(err)
	}
	registry, err := flags.OpenRegistry(ctx, js, flags.RegistryConfig{})
	if err != nil {
		log.Fatal(err)
	}
	shadow.Start()
	registry.Start()

	legacy, _ := all.Open(ctx, "sqlite:/var/lib/app/legacy.db")
	target, _ := all.Open(ctx, "sqlite:/var/lib/app/target.db")
	router, err := flags.NewRouter(flags.RouterConfig{
		Flags:      openfeature.NewDefaultClient(),
		Legacy:     legacy,
		Target:     target,
		Registerer: prometheus.DefaultRegisterer,
		Observers:  []flags.ClientObserver{shadow, registry},
	})
	if err != nil {
		log.Fatal(err)
	}

	res, err := router.Get(ctx, "acme", "orders", "order-42")
	if err == nil {
		fmt.Printf("%s served %s\n", res.Served, res.Record.Data)
	}

	// Shut down in order: no new reads and finished comparisons first,
	// then the last counters.
	_ = router.Close(ctx)
	_ = shadow.Close(ctx)
	_ = registry.Close(ctx)
}
