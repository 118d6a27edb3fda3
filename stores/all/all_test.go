package all_test

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/stores"
	_ "github.com/switchyard/switchyard/stores/all"
)

func TestEverySchemeRegistered(t *testing.T) {
	got := stores.Schemes()
	for _, scheme := range []string{"postgres", "postgresql", "rethinkdb", "sqlite", "sqlserver"} {
		if !slices.Contains(got, scheme) {
			t.Errorf("scheme %q is not registered (registered: %q)", scheme, got)
		}
	}
}
