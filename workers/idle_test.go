package workers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/workers"
)

// An idle worker, its pull request parked on the server, stops at once when
// cancelled: it does not wait out the pull's expiry, MaxWait or the grace
// period.
func TestIdleWorkerStopsPromptlyOnCancel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first int // events handled before the worker goes idle
	}{{"never busy", 0}, {"idle after a batch", 20}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := workers.Config{Stream: testStream, Consumer: testConsumer} // default MaxWait, Grace, FlushTimeout
			w := e.worker(newFaultStore(t), cfg)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- w.Run(ctx) }()
			if tc.first > 0 {
				e.publish(manyUpserts(tc.first, "a")...)
				e.waitAcked(uint64(tc.first))
			}
			testenv.Eventually(t, 10*time.Second, func() (bool, string) {
				info := e.consumerInfo()
				return info.NumWaiting > 0 && info.NumAckPending == 0,
					fmt.Sprintf("%d waiting pull requests, %d ack pending", info.NumWaiting, info.NumAckPending)
			}, "the worker waits on the server for messages")

			start := time.Now()
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				t.Logf("an idle worker stopped %v after cancellation", time.Since(start))
			case <-time.After(2 * time.Second):
				t.Fatal("an idle worker did not stop within 2s of cancellation")
			}
			if st := w.Stats(); st.Applied != uint64(tc.first) {
				t.Fatalf("stats %+v: want %d applied", st, tc.first)
			}
		})
	}
}
