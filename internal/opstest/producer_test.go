package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
)

// producer publishes task events for a few clients until stopped: creates,
// renames and deletes, like an application that keeps running during the
// migration.
type producer struct {
	stop      context.CancelFunc
	wg        sync.WaitGroup
	published atomic.Int64
}

var testClients = []string{"acme", "globex", "initech"}

func startProducer(t *testing.T, js jetstream.JetStream, every time.Duration) *producer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &producer{stop: cancel}
	pub := events.NewPublisher(js, "")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			client := testClients[i%len(testClients)]
			key := fmt.Sprintf("%s-%03d", client, (i/len(testClients))%40)
			ev := events.Event{ID: fmt.Sprintf("ev-%d-%d", time.Now().UnixNano(), i), Type: "task.saved", Entity: "task",
				Key: key, Client: client, Op: events.OpUpsert, OccurredAt: time.Now().UTC()}
			if i%17 == 16 {
				ev.Op, ev.Type = events.OpDelete, "task.deleted"
			} else {
				ev.Data, _ = json.Marshal(map[string]any{"id": key, "client": client, "title": fmt.Sprintf("task %d", i), "n": i})
			}
			if _, err := pub.Publish(ctx, ev); err == nil {
				p.published.Add(1)
			}
		}
	}()
	t.Cleanup(p.halt)
	return p
}

// halt stops publishing and waits for the last publish to finish.
func (p *producer) halt() {
	p.stop()
	p.wg.Wait()
}
