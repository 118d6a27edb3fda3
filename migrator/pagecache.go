package migrator

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// chunkID names one chunk of one run.
type chunkID struct {
	run, entity string
	index       int
}

// pageCache hands the rows a planner read to bound a chunk to a copier of
// the same process, so a chunk copied where it was planned is read from the
// source once instead of twice. It is an optimization only: a copier that
// finds no entry (the chunk was planned by another process, or redelivered)
// scans the source as usual. Rows read at planning time are as good as rows
// read later: every change after the watermark also reaches the target
// through its subscription, and insert-if-absent writes at source versions
// never overwrite it.
//
// The cache holds at most capacity chunks. A planner that finds it full
// waits until a copier takes an entry or the entry's chunk is finished
// elsewhere (evict), so memory stays bounded by capacity chunks of rows.
type pageCache struct {
	capacity int

	mu      sync.Mutex
	pages   map[chunkID][]stores.Record
	changed chan struct{} // closed and replaced when an entry leaves
}

func newPageCache(capacity int) *pageCache {
	return &pageCache{capacity: capacity, pages: map[chunkID][]stores.Record{}, changed: make(chan struct{})}
}

// put stores the rows of a chunk, waiting while the cache is full. While
// it waits it calls evict every 200 ms with the cached ids, and drops the
// ids evict returns (chunks finished by another process). It returns ctx's
// error when ctx ends first; the rows are then not cached.
func (c *pageCache) put(ctx context.Context, id chunkID, rows []stores.Record, evict func(ctx context.Context, ids []chunkID) []chunkID) error {
	for {
		c.mu.Lock()
		if len(c.pages) < c.capacity {
			c.pages[id] = rows
			c.mu.Unlock()
			return nil
		}
		changed := c.changed
		ids := make([]chunkID, 0, len(c.pages))
		for k := range c.pages {
			ids = append(ids, k)
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-time.After(200 * time.Millisecond):
			for _, done := range evict(ctx, ids) {
				c.drop(done)
			}
		}
	}
}

// take removes and returns the rows of a chunk, if cached.
func (c *pageCache) take(id chunkID) ([]stores.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, ok := c.pages[id]
	if ok {
		c.removeLocked(id)
	}
	return rows, ok
}

// drop forgets a chunk.
func (c *pageCache) drop(id chunkID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[id]; ok {
		c.removeLocked(id)
	}
}

func (c *pageCache) removeLocked(id chunkID) {
	delete(c.pages, id)
	close(c.changed)
	c.changed = make(chan struct{})
}

// len is the number of cached chunks.
func (c *pageCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pages)
}
