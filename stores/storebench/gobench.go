package storebench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// BenchmarkApply is the body of the adapters' BenchmarkApply: sub-benchmarks
// that apply batches of batch writes per iteration (new keys with event
// ids, version-fenced updates of existing keys, and backfill writes into
// empty keys) and report rows/s. open returns an empty store.
func BenchmarkApply(b *testing.B, open func(b *testing.B) stores.Store, batch int) {
	cases := []struct {
		name string
		// prepare returns the writes of iteration i.
		prepare func(i int) []stores.Write
		// setup, when set, prepares the store before the timer starts.
		setup func(b *testing.B, st stores.Store)
	}{
		{name: "insert", prepare: func(i int) []stores.Write {
			return Writes("bench", i*batch, batch, 1, true, false)
		}},
		{name: "update", prepare: func(i int) []stores.Write {
			return Writes("bench", 0, batch, int64(i)+2, true, false)
		}, setup: func(b *testing.B, st stores.Store) {
			if _, err := st.Apply(context.Background(), Writes("bench", 0, batch, 1, true, false)); err != nil {
				b.Fatal(err)
			}
		}},
		{name: "backfill", prepare: func(i int) []stores.Write {
			return Writes("bench", i*batch, batch, 1, false, true)
		}},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/batch=%d", c.name, batch), func(b *testing.B) {
			st := open(b)
			ctx := context.Background()
			if c.setup != nil {
				c.setup(b, st)
			}
			var elapsed time.Duration
			rows := 0
			i := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				writes := c.prepare(i)
				b.StartTimer()
				start := time.Now()
				res, err := st.Apply(ctx, writes)
				elapsed += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if res.Applied != len(writes) {
					b.Fatalf("iteration %d applied %+v of %d writes", i, res, len(writes))
				}
				rows += len(writes)
				i++
			}
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		})
	}
}
