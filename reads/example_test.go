package reads_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/sqlite"
)

// An application reads through the router, which asks OpenFeature for each
// client's read stage. In production the stages come from flags.NewProvider
// (the flag bucket in NATS, kept current by a watch) and the router's
// Observers are a flags.ShadowStats and a flags.Registry, which share the
// shadow counters and the clients seen with the gates and the console. Any
// provider serving the string flag "read-stage" fits; here the SDK's
// in-memory one puts every client on the target store.
func ExampleNewRouter() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "reads-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	legacy, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "legacy.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer legacy.Close()
	target, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "target.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer target.Close()
	order := stores.Write{Entity: "orders", Key: "order-42", Client: "acme", Version: 1, Data: json.RawMessage(`{"total":42}`)}
	for _, s := range []*sqlite.Store{legacy, target} {
		if _, err := s.Apply(ctx, []stores.Write{order}); err != nil {
			log.Fatal(err)
		}
	}

	api := isolated.NewAPI()
	defer api.Shutdown(ctx)
	stages := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		flags.FlagKey: {
			Key: flags.FlagKey, State: memprovider.Enabled, DefaultVariant: "target",
			Variants: map[string]any{"legacy": "legacy", "target": "target"},
		},
	})
	if err := api.SetProviderAndWait(ctx, stages); err != nil {
		log.Fatal(err)
	}
	router, err := reads.NewRouter(reads.RouterConfig{Flags: api.NewClient(), Legacy: legacy, Target: target})
	if err != nil {
		log.Fatal(err)
	}
	res, err := router.Get(ctx, "acme", "orders", "order-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stage %s: the %s store served %s\n", res.Stage, res.Served, res.Record.Data)

	// Shut down in order: no new reads and finished comparisons first,
	// then the observers' last counters.
	_ = router.Close(ctx)
	// Output: stage target: the target store served {"total":42}
}
