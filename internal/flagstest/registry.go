package flagstest

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
)

// ClientIDs returns the ids of the clients r holds, sorted.
func ClientIDs(t testing.TB, r *flags.Registry) []string {
	t.Helper()
	seen, err := r.Clients(testenv.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(seen))
	for _, s := range seen {
		out = append(out, s.Client)
	}
	slices.Sort(out)
	return out
}
