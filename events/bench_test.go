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

// BenchmarkDecodeShared is BenchmarkDecode as the worker decodes: data
// passed through as a slice of the payload.
func BenchmarkDecodeShared(b *testing.B) {
	payload := []byte(withField("data", `{"title":"`+strings.Repeat("x", 120)+`","done":false,"rev":12345}`))
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	d := events.Decoder{ShareData: true}
	for b.Loop() {
		if _, err := d.Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}
