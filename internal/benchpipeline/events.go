package benchpipeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/events"
)

// genEvents returns events first..first+n-1 over keys records, each close to
// size bytes on the wire: full-state upserts with a padded document, keys
// visited round-robin so that every batch touches mostly distinct rows.
func genEvents(first, n, keys, size int) []events.Event {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The envelope without data is about 190 bytes; the rest is document.
	pad := max(size-190-40, 0)
	filler := strings.Repeat("x", pad)
	out := make([]events.Event, n)
	for i := range out {
		id := first + i
		key := fmt.Sprintf("task-%07d", id%keys)
		out[i] = events.Event{
			ID:         fmt.Sprintf("bench-%09d", id),
			Type:       "task.saved",
			Entity:     "bench_tasks",
			Key:        key,
			Client:     fmt.Sprintf("client-%02d", id%keys%20),
			Op:         events.OpUpsert,
			OccurredAt: base.Add(time.Duration(id) * time.Millisecond),
			Data:       json.RawMessage(fmt.Sprintf(`{"rev":%d,"done":%t,"title":"%s"}`, id, id%2 == 0, filler)),
		}
	}
	return out
}
