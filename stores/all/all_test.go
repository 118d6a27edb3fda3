package all_test

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/stores/all"
)

func TestEverySchemeRegistered(t *testing.T) {
	got := all.Schemes()
	for _, scheme := range []string{"postgres", "postgresql", "rethinkdb", "sqlite", "sqlserver"} {
		if !slices.Contains(got, scheme) {
			t.Errorf("scheme %q is not registered (registered: %q)", scheme, got)
		}
	}
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("a scheme has two adapters: %q", got)
	}
}
