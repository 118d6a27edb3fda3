package reads_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/reads"
)

// BenchmarkRouterGet measures a routed Get against SQLite stores per stage:
// what the caller waits for. In the shadow stages the secondary read runs in
// the background (dropped when 64 are in flight), so the figures show what
// shadowing costs the primary.
func BenchmarkRouterGet(b *testing.B) {
	env := newRouterEnv(b)
	for i := range 100 {
		k := fmt.Sprintf("k%03d", i)
		put(b, env.legacy, "bench", k, `{"n":1,"s":"some text"}`, 1)
		put(b, env.target, "bench", k, `{"s":"some text","n":1}`, 1)
	}
	r := env.router(b, reads.RouterConfig{Flags: nil})
	ctx := context.Background()
	for _, st := range []flags.Stage{flags.StageLegacy, flags.StageShadow, flags.StageTarget} {
		env.setStage(b, "bench", st)
		b.Run(string(st), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := r.Get(ctx, "bench", "orders", fmt.Sprintf("k%03d", i%100)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
	_ = r.Close(ctx)
}
