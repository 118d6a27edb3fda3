package events_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/events"
)

// FuzzDecode checks that the decoder never panics, that every rejection is a
// *FieldError matching ErrInvalid, and that anything it accepts re-encodes
// and decodes to the same event.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		validUpsert,
		`{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
		`{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"upsert","occurred_at":"2026-01-02T03:04:05.999999999-07:30","data":{"a":[1,{"b":null}],"c":"\u00e9\ud83d\ude00"}}`,
		`{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"upsert","version":null,"occurred_at":"0001-01-01T00:00:01Z","data":{}}`,
		`{"id":"e","key":"k","key":"k2"}`,
		`{"verison":1}`,
		`{"data":[1]}`,
		`{"version":1e309}`,
		`{"version":-0}`,
		`[{"id":"e"}]`,
		`{"id":"a\u0000b"}`,
		"{\"id\":\"\xff\"}",
		`{"id":"e"}{}`,
		`{"i\u0064":"e\"q\\","type":"t","entity":"tasks","key":"\u00e9\/x","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
		`{"id":"e","data":{"a":[}}`,
		`{"id":1e5,"version":01}`,
		`{"version":-9223372036854775809}`,
		`{`,
		``,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := events.Decode(payload)
		if err != nil {
			var fe *events.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("rejection %T %v is not a *FieldError matching ErrInvalid", err, err)
			}
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted %q, which is not valid JSON", payload)
		}
		again, err := events.Encode(ev)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", payload, err)
		}
		back, err := events.Decode(again)
		if err != nil {
			t.Fatalf("accepted %q, encoded %q, which does not decode: %v", payload, again, err)
		}
		if !sameEvent(ev, back) {
			t.Fatalf("round trip changed the event:\n in  %+v\n out %+v", ev, back)
		}
	})
}
