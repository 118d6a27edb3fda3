package events_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/events"
)

// BenchmarkDecode decodes a typical full-state event of about 300 bytes.
func BenchmarkDecode(b *testing.B) {
	payload := []byte(withField("data", `{"title":"`+strings.Repeat("x", 120)+`","done":false,"rev":12345}`))
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}
