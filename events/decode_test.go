package events_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/events"
)

const validUpsert = `{"id":"e-1","type":"task.created","entity":"tasks","key":"t-1","client":"acme","op":"upsert","version":3,"occurred_at":"2026-01-02T03:04:05.123Z","data":{"title":"write docs","done":false}}`

func TestDecodeValid(t *testing.T) {
	ev, err := events.Decode([]byte(validUpsert))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if ev.ID != "e-1" || ev.Type != "task.created" || ev.Entity != "tasks" || ev.Key != "t-1" ||
		ev.Client != "acme" || ev.Op != events.OpUpsert || ev.Version != 3 {
		t.Fatalf("decoded %+v", ev)
	}
	if got := ev.OccurredAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"); got != "2026-01-02T03:04:05.123Z" {
		t.Fatalf("occurred_at = %s", got)
	}
	if string(ev.Data) != `{"title":"write docs","done":false}` {
		t.Fatalf("data = %s", ev.Data)
	}
}

func TestDecodeOptionalFields(t *testing.T) {
	cases := map[string]string{
		"delete without data":      `{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
		"delete with null data":    `{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z","data":null}`,
		"null version":             `{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z","version":null}`,
		"offset timestamp":         `{"id":"e","type":"t","entity":"tasks","key":"k","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05+02:00"}`,
		"white space around":       " \n{ \"id\" : \"e\", \"type\":\"t\",\"entity\":\"tasks\",\"key\":\"k\",\"client\":\"c\",\"op\":\"upsert\",\"occurred_at\":\"2026-01-02T03:04:05Z\",\"data\": { } } \n",
		"unicode key":              `{"id":"e","type":"t","entity":"tasks","key":"clé-✓","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
		"escaped key":              `{"id":"e","type":"t","entity":"tasks","key":"a\u00e9b","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
		"longest entity":           `{"id":"e","type":"t","entity":"` + "a" + strings.Repeat("b", 62) + `","key":"k","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
		"key of exactly 255 bytes": `{"id":"e","type":"t","entity":"tasks","key":"` + strings.Repeat("k", 255) + `","client":"c","op":"delete","occurred_at":"2026-01-02T03:04:05Z"}`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := events.Decode([]byte(payload)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}

// withField returns validUpsert with one member replaced (or removed when
// value is "").
func withField(name, value string) string {
	fields := []struct{ name, value string }{
		{"id", `"e-1"`}, {"type", `"task.created"`}, {"entity", `"tasks"`}, {"key", `"t-1"`},
		{"client", `"acme"`}, {"op", `"upsert"`}, {"version", `3`},
		{"occurred_at", `"2026-01-02T03:04:05Z"`}, {"data", `{"title":"x"}`},
	}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, f := range fields {
		v := f.value
		if f.name == name {
			v = value
		}
		if v == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`"` + f.name + `":` + v)
	}
	b.WriteByte('}')
	return b.String()
}

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		field   string
		reason  string // a fragment the reason must contain
	}{
		{"empty payload", ``, "", "not JSON"},
		{"malformed JSON", `{"id":`, "id", "not JSON"},
		{"truncated object", `{"id":"e"`, "", "not JSON"},
		{"array", `[1,2]`, "", "not a JSON object"},
		{"string", `"event"`, "", "not a JSON object"},
		{"null", `null`, "", "not a JSON object"},
		{"trailing data", validUpsert + `{}`, "", "trailing data"},
		{"trailing garbage", validUpsert + `x`, "", ""},
		{"unknown field", strings.Replace(validUpsert, `"version":3`, `"verison":3`, 1), "verison", "unknown field"},
		{"duplicate field", strings.Replace(validUpsert, `"key":"t-1"`, `"key":"t-1","key":"t-2"`, 1), "key", "more than once"},
		{"bad member value", `{"id":tru}`, "id", "not JSON"},

		{"missing id", withField("id", ""), "id", "is required"},
		{"empty id", withField("id", `""`), "id", "is required"},
		{"id not a string", withField("id", `42`), "id", "must be a string, got a number"},
		{"id too long", withField("id", `"`+strings.Repeat("i", 256)+`"`), "id", "above the limit of 255"},
		{"id with newline", withField("id", `"a\nb"`), "id", "control character"},
		{"id with NUL", withField("id", `"a\u0000b"`), "id", "control character"},
		{"id with trailing space", withField("id", `"evt-1 "`), "id", "ends with a space"},
		{"id invalid UTF-8", withField("id", "\"a\xffb\""), "id", "not valid UTF-8"},
		{"data invalid UTF-8", withField("data", "{\"t\":\"a\xffb\"}"), "data", "not valid UTF-8"},

		{"missing type", withField("type", ""), "type", "is required"},
		{"type not a string", withField("type", `{}`), "type", "must be a string, got an object"},
		{"type too long", withField("type", `"`+strings.Repeat("t", 256)+`"`), "type", "above the limit"},

		{"missing entity", withField("entity", ""), "entity", "is required"},
		{"entity upper case", withField("entity", `"Tasks"`), "entity", "does not match"},
		{"entity with dot", withField("entity", `"tasks.x"`), "entity", "does not match"},
		{"entity starting with digit", withField("entity", `"1tasks"`), "entity", "does not match"},
		{"entity with quote", withField("entity", `"t\"; drop table x; --"`), "entity", "does not match"},
		{"entity too long", withField("entity", `"a`+strings.Repeat("b", 63)+`"`), "entity", "does not match"},
		{"entity not a string", withField("entity", `["tasks"]`), "entity", "got an array"},

		{"missing key", withField("key", ""), "key", "is required"},
		{"empty key", withField("key", `""`), "key", "is required"},
		{"key too long", withField("key", `"`+strings.Repeat("k", 256)+`"`), "key", "256 bytes, above the limit of 255"},
		{"key not a string", withField("key", `7`), "key", "must be a string"},
		{"key with tab", withField("key", `"a\tb"`), "key", "control character"},
		{"key with trailing space", withField("key", `"a "`), "key", "ends with a space"},
		{"key of spaces only", withField("key", `"  "`), "key", "ends with a space"},

		{"missing client", withField("client", ""), "client", "is required"},
		{"client too long", withField("client", `"`+strings.Repeat("c", 256)+`"`), "client", "above the limit"},
		{"client boolean", withField("client", `true`), "client", "got a boolean"},
		{"client with trailing space", withField("client", `"acme "`), "client", "ends with a space"},

		{"missing op", withField("op", ""), "op", "is required"},
		{"unknown op", withField("op", `"merge"`), "op", `"merge" is not one of upsert, delete`},
		{"op upper case", withField("op", `"UPSERT"`), "op", "is not one of"},
		{"op null", withField("op", `null`), "op", "got null"},

		{"version zero", withField("version", `0`), "version", "at least 1"},
		{"version negative", withField("version", `-5`), "version", "at least 1"},
		{"version fraction", withField("version", `1.5`), "version", "not an integer"},
		{"version exponent", withField("version", `1e3`), "version", "not an integer"},
		{"version string", withField("version", `"3"`), "version", "must be an integer, got a string"},
		{"version out of range", withField("version", `9223372036854775808`), "version", "out of range"},

		{"missing occurred_at", withField("occurred_at", ""), "occurred_at", "is required"},
		{"occurred_at not RFC 3339", withField("occurred_at", `"02/01/2026"`), "occurred_at", "not an RFC 3339 timestamp"},
		{"occurred_at without zone", withField("occurred_at", `"2026-01-02T03:04:05"`), "occurred_at", "RFC 3339"},
		{"occurred_at number", withField("occurred_at", `1767323045`), "occurred_at", "must be a string"},

		{"upsert without data", withField("data", ""), "data", "required for an upsert"},
		{"upsert with null data", withField("data", `null`), "data", "required for an upsert"},
		{"data array", withField("data", `[1]`), "data", "must be a JSON object, got an array"},
		{"data string", withField("data", `"x"`), "data", "got a string"},
		{"data number", withField("data", `12`), "data", "got a number"},
		{"delete with data", withField("op", `"delete"`), "data", "must be absent for a delete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := events.Decode([]byte(tc.payload))
			if err == nil {
				t.Fatalf("Decode accepted %s", tc.payload)
			}
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			var fe *events.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("Field = %q, want %q (error: %v)", fe.Field, tc.field, err)
			}
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("Reason = %q, want it to contain %q", fe.Reason, tc.reason)
			}
			if fe.Field != "" && !strings.Contains(err.Error(), `"`+fe.Field+`"`) {
				t.Fatalf("message %q does not name the field", err)
			}
		})
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	payload := []byte(withField("data", `{"blob":"`+strings.Repeat("x", 500)+`"}`))
	if _, err := (events.Decoder{MaxEventBytes: len(payload)}).Decode(payload); err != nil {
		t.Fatalf("payload at the limit: %v", err)
	}
	_, err := (events.Decoder{MaxEventBytes: len(payload) - 1}).Decode(payload)
	var fe *events.FieldError
	if !errors.As(err, &fe) || fe.Field != "" || !strings.Contains(fe.Reason, "above the limit") {
		t.Fatalf("payload over the limit: %v", err)
	}
	big := []byte(withField("data", `{"blob":"`+strings.Repeat("x", events.DefaultMaxEventBytes)+`"}`))
	if _, err := events.Decode(big); !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("payload over the default limit: %v", err)
	}
}

func TestFieldErrorMessages(t *testing.T) {
	whole := &events.FieldError{Reason: "not a JSON object"}
	if whole.Error() != "invalid event: not a JSON object" {
		t.Fatalf("whole-payload message = %q", whole.Error())
	}
	field := &events.FieldError{Field: "key", Reason: "is required"}
	if field.Error() != `invalid event: field "key": is required` {
		t.Fatalf("field message = %q", field.Error())
	}
	if errors.Is(errors.New("other"), events.ErrInvalid) {
		t.Fatal("an unrelated error matches ErrInvalid")
	}
}

func TestReasonsAreTruncated(t *testing.T) {
	_, err := events.Decode([]byte(withField("op", `"`+strings.Repeat("é", 1000)+`"`)))
	var fe *events.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v", err)
	}
	if len(fe.Reason) > 200 {
		t.Fatalf("reason is %d bytes; a producer's megabytes must not reach the logs", len(fe.Reason))
	}
}

func TestDecoderShareData(t *testing.T) {
	for _, share := range []bool{false, true} {
		payload := []byte(validUpsert)
		ev, err := events.Decoder{ShareData: share}.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.Index(payload, ev.Data)
		shared := at >= 0 && &payload[at] == &ev.Data[0]
		if shared != share {
			t.Errorf("ShareData %v: data shares the payload's buffer: %v", share, shared)
		}
		if share && cap(ev.Data) != len(ev.Data) {
			t.Errorf("shared data has room to grow into the payload: len %d, cap %d", len(ev.Data), cap(ev.Data))
		}
	}
}
