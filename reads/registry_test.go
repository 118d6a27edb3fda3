package reads_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/reads"
)

// Reads of invented clients find nothing and register nobody; a client
// whose read found its records is registered.
func TestInventedClientsAreNotRegistered(t *testing.T) {
	env := newRouterEnv(t)
	ctx := testenv.Context(t)
	put(t, env.legacy, "acme", "a1", `{"n":1}`, 1)
	reg, err := flags.OpenRegistry(ctx, env.JS, flags.RegistryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := env.router(t, reads.RouterConfig{Observers: []flags.ClientObserver{reg}})
	srv := readAPIServer(t, r)
	for i := range 300 {
		path := fmt.Sprintf("/v1/orders/a1?client=invented-%d", i)
		if i%2 == 1 {
			path = fmt.Sprintf("/v1/orders?client=invented-%d", i)
		}
		resp, err := authGet(srv.URL+path, allToken)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := []int{404, 200}[i%2]; resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := authGet(srv.URL+"/v1/orders/a1?client=acme", allToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := reg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := flagstest.ClientIDs(t, reg); !slices.Equal(got, []string{"acme"}) {
		t.Fatalf("known clients after 300 reads of invented clients: %d, first %v; want only acme", len(got), got[:min(len(got), 5)])
	}
	store, err := flags.OpenStore(ctx, env.JS, flags.StoreConfig{Audit: env.Audit, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	known, err := store.ListClients(ctx, flags.ClientQuery{})
	if err != nil || len(known) != 1 || known[0].Client != "acme" {
		t.Fatalf("ListClients = %+v %v", known, err)
	}
}
