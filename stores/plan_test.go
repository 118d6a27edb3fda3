package stores

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateIdentifiers pins the one identifier rule every adapter relies
// on: keys, clients and event ids that a store could not keep apart byte for
// byte are refused with a reason, never merged.
func TestValidateIdentifiers(t *testing.T) {
	good := Write{Entity: "task", Key: " lead space ok", Client: "acme", Version: 1, Data: []byte(`{}`), EventID: "e-1"}
	if err := Validate([]Write{good}); err != nil {
		t.Fatalf("valid write refused: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Write)
		reason string
	}{
		{"key trailing space", func(w *Write) { w.Key = "k " }, "key ends with a space"},
		{"key spaces only", func(w *Write) { w.Key = "   " }, "key ends with a space"},
		{"key NUL", func(w *Write) { w.Key = "a\x00b" }, "key contains the control character U+0000"},
		{"key 256 bytes", func(w *Write) { w.Key = strings.Repeat("k", 256) }, "key is 256 bytes"},
		{"key invalid UTF-8", func(w *Write) { w.Key = "a\xffb" }, "key is not valid UTF-8"},
		{"client trailing space", func(w *Write) { w.Client = "acme " }, "client ends with a space"},
		{"client control", func(w *Write) { w.Client = "ac\nme" }, "client contains the control character"},
		{"event id trailing space", func(w *Write) { w.EventID = "e-1 " }, "event id ends with a space"},
		{"event id 256 bytes", func(w *Write) { w.EventID = strings.Repeat("e", 256) }, "event id is 256 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := good
			c.mutate(&w)
			err := Validate([]Write{good, w})
			var rej *RejectError
			if !errors.As(err, &rej) {
				t.Fatalf("Validate = %v, want a *RejectError", err)
			}
			if rej.Index != 1 || !strings.Contains(rej.Reason, c.reason) {
				t.Fatalf("rejected index %d with %q, want index 1 with %q", rej.Index, rej.Reason, c.reason)
			}
		})
	}
}
