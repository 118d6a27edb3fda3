package testenv

import (
	"context"
	"testing"
	"time"
)

// Context returns a context for one test's calls to a server: cancelled
// after 30 s, so a hung call fails its test instead of the whole run, and
// when the test ends.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
