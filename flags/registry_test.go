package flags_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
)

// The registry holds at most MaxClients; registered clients are still
// refreshed when it is full, and registration is rate-limited.
func TestRegistryIsBoundedAndRateLimited(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	found := flags.ReadObservation{Served: flags.StoreLegacy, Found: true}

	bounded, err := flags.OpenRegistry(ctx, env.JS, flags.RegistryConfig{Bucket: "bounded", MaxClients: 3, MarkInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"a", "b", "c"} {
		bounded.ObserveRead(c, found)
	}
	if err := bounded.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"d", "e", "a"} {
		bounded.ObserveRead(c, found)
	}
	if err := bounded.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := flagstest.ClientIDs(t, bounded); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("full registry holds %v, want a, b, c", got)
	}
	if d := bounded.Dropped(); d != 2 {
		t.Fatalf("dropped = %d, want the 2 new clients", d)
	}

	limited, err := flags.OpenRegistry(ctx, env.JS, flags.RegistryConfig{Bucket: "limited", RegisterRate: 0.001, RegisterBurst: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		limited.ObserveRead(fmt.Sprintf("c%02d", i), found)
	}
	if err := limited.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := flagstest.ClientIDs(t, limited); len(got) != 5 || limited.Dropped() != 45 {
		t.Fatalf("rate-limited registry: %v, dropped %d; want 5 registered, 45 dropped", got, limited.Dropped())
	}

	if _, err := flags.OpenRegistry(ctx, env.JS, flags.RegistryConfig{Bucket: "short", TTL: time.Minute, MarkInterval: time.Hour}); err == nil {
		t.Fatal("a TTL shorter than the mark interval was accepted")
	}
	kv, err := env.JS.KeyValue(ctx, "limited")
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.TTL() != 30*24*time.Hour {
		t.Fatalf("registry entries expire after %v (%v), want 30 days", st.TTL(), err)
	}
}
