package migrator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
)

func TestPageCacheBoundsMemory(t *testing.T) {
	ctx := context.Background()
	c := newPageCache(2)
	rows := []stores.Record{{Key: "a"}, {Key: "b"}}
	noEvict := func(context.Context, []chunkID) []chunkID { return nil }
	id := func(i int) chunkID { return chunkID{run: "r", entity: "tasks", index: i} }
	for i := range 2 {
		if err := c.put(ctx, id(i), rows, noEvict); err != nil {
			t.Fatal(err)
		}
	}
	// Full: a third put waits until the deadline.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := c.put(short, id(2), rows, noEvict); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put into a full cache returned %v, want it to wait", err)
	}
	// A copier taking an entry lets the planner go on.
	done := make(chan error, 1)
	go func() { done <- c.put(ctx, id(2), rows, noEvict) }()
	if got, ok := c.take(id(0)); !ok || len(got) != 2 {
		t.Fatalf("take: %v %v", got, ok)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := c.take(id(0)); ok {
		t.Fatal("an entry can be taken once")
	}
	// Chunks finished by another process are evicted.
	go func() {
		done <- c.put(ctx, id(3), rows, func(_ context.Context, ids []chunkID) []chunkID { return ids[:1] })
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.len() != 2 {
		t.Fatalf("cache holds %d chunks, want 2", c.len())
	}
}
