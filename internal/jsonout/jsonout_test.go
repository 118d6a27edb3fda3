package jsonout_test

import (
	"bytes"
	"testing"

	"github.com/switchyard/switchyard/internal/jsonout"
)

// TestWriteIndents: two-space indentation and one trailing newline, the
// shape every --json output has.
func TestWriteIndents(t *testing.T) {
	var b bytes.Buffer
	if err := jsonout.Write(&b, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "{\n  \"a\": 1\n}\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
