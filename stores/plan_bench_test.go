package stores_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

// BenchmarkValidatePlan validates and plans one worker batch: 500 live
// writes of ~300-byte documents with event ids, what every Apply does
// before it reaches the database.
func BenchmarkValidatePlan(b *testing.B) {
	writes := make([]stores.Write, 500)
	for i := range writes {
		writes[i] = stores.Write{
			Entity: "tasks", Key: fmt.Sprintf("task-%07d", i), Client: "client-07", Version: int64(i + 1),
			Data:    []byte(fmt.Sprintf(`{"rev":%d,"done":false,"title":"%s"}`, i, strings.Repeat("x", 240))),
			EventID: fmt.Sprintf("bench-%09d", i),
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := stores.Validate(writes); err != nil {
			b.Fatal(err)
		}
		_ = stores.NewPlan(writes)
	}
}
