package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoder decodes event payloads strictly. The zero value is ready to use and
// applies DefaultMaxEventBytes.
type Decoder struct {
	// MaxEventBytes bounds the payload size; zero means DefaultMaxEventBytes.
	MaxEventBytes int
	// ShareData makes Event.Data a slice of the payload instead of a copy.
	// Set it only when the payload's buffer is never reused or changed
	// while the event is in use: nats.go gives every delivered message a
	// buffer of its own, so a worker can pass data through to the store
	// without copying it.
	ShareData bool
}

// Decode decodes one event with the default limits. See Decoder.Decode.
func Decode(payload []byte) (Event, error) { return Decoder{}.Decode(payload) }

// Decode parses payload as one event envelope and validates it.
//
// It rejects, with a *FieldError naming the field: payloads over the size
// limit, anything that is not a single JSON object, duplicate or unknown
// fields (a misspelt "verison" must not silently become "no version"),
// values of the wrong JSON type, and values that break the rules of Validate.
func (d Decoder) Decode(payload []byte) (Event, error) {
	limit := d.MaxEventBytes
	if limit <= 0 {
		limit = DefaultMaxEventBytes
	}
	if len(payload) > limit {
		return Event{}, fieldErr("", "payload is %d bytes, above the limit of %d", len(payload), limit)
	}
	var room [12]member
	members, err := scanObject(payload, room[:])
	if err != nil {
		return Event{}, err
	}
	// Duplicates first: "key" twice is wrong whatever the values are.
	for i := range members {
		for j := range i {
			if bytes.Equal(members[i].name, members[j].name) {
				return Event{}, fieldErr(string(members[i].name), "appears more than once")
			}
		}
	}
	// The string fields share one allocation: the arena holds their bytes
	// one after the other and each field is a substring of it.
	size := 0
	for _, m := range members {
		if m.value[0] == '"' {
			size += len(m.value)
		}
	}
	var arena strings.Builder
	arena.Grow(size)
	var ev Event
	for _, m := range members {
		if err := decodeField(&ev, m, d.ShareData, &arena); err != nil {
			return Event{}, err
		}
	}
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

func decodeField(ev *Event, m member, shareData bool, arena *strings.Builder) error {
	raw := json.RawMessage(m.value)
	switch string(m.name) {
	case "id":
		return decodeString(arena, "id", m, &ev.ID)
	case "type":
		return decodeString(arena, "type", m, &ev.Type)
	case "entity":
		return decodeString(arena, "entity", m, &ev.Entity)
	case "key":
		return decodeString(arena, "key", m, &ev.Key)
	case "client":
		return decodeString(arena, "client", m, &ev.Client)
	case "op":
		// The known operations without allocating a string for each.
		switch string(m.value) {
		case `"` + string(OpUpsert) + `"`:
			ev.Op = OpUpsert
			return nil
		case `"` + string(OpDelete) + `"`:
			ev.Op = OpDelete
			return nil
		}
		var s string
		if err := decodeString(arena, "op", m, &s); err != nil {
			return err
		}
		ev.Op = Op(s)
		return nil
	case "version":
		if isNull(raw) {
			return nil
		}
		v, err := decodeVersion(raw)
		if err != nil {
			return err
		}
		ev.Version = v
		return nil
	case "occurred_at":
		var s string
		if err := decodeString(arena, "occurred_at", m, &s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fieldErr("occurred_at", "%q is not an RFC 3339 timestamp", truncate(s))
		}
		ev.OccurredAt = t
		return nil
	case "data":
		if isNull(raw) {
			return nil
		}
		if raw[0] != '{' {
			return fieldErr("data", "must be a JSON object, got %s", jsonKind(raw))
		}
		if !utf8.Valid(raw) {
			return fieldErr("data", "is not valid UTF-8")
		}
		if shareData {
			ev.Data = raw[:len(raw):len(raw)] // an append must not write into the payload
		} else {
			// A copy: the caller may reuse the payload's buffer.
			ev.Data = append(json.RawMessage(nil), raw...)
		}
		return nil
	default:
		return fieldErr(string(m.name), "unknown field")
	}
}

// decodeString sets *dst to the string value of m, a substring of arena.
// Bytes written to a strings.Builder never change, so the substrings stay
// valid even if the arena has to grow.
func decodeString(arena *strings.Builder, name string, m member, dst *string) error {
	raw := m.value
	if raw[0] != '"' {
		return fieldErr(name, "must be a string, got %s", jsonKind(raw))
	}
	// encoding/json would replace invalid bytes with U+FFFD, silently
	// turning two different keys into one.
	if !utf8.Valid(raw) {
		return fieldErr(name, "is not valid UTF-8")
	}
	if !m.escaped {
		start := arena.Len()
		arena.Write(raw[1 : len(raw)-1])
		*dst = arena.String()[start:]
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fieldErr(name, "not a valid JSON string: %v", err)
	}
	return nil
}

func decodeVersion(raw json.RawMessage) (int64, error) {
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, fieldErr("version", "must be an integer, got %s", jsonKind(raw))
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) && numErr.Err == strconv.ErrRange {
			return 0, fieldErr("version", "%s is out of range (at most %d)", truncate(string(raw)), int64(math.MaxInt64))
		}
		return 0, fieldErr("version", "%s is not an integer", truncate(string(raw)))
	}
	if v < 1 {
		return 0, fieldErr("version", "must be at least 1, got %d", v)
	}
	return v, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// truncate keeps error messages readable when a producer sends megabytes.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Encode validates ev and returns its wire form. It fails with a *FieldError
// (matching ErrInvalid) when ev breaks a rule of Validate or its Data is not
// valid JSON; Data is compacted.
func Encode(ev Event) ([]byte, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	if len(ev.Data) > 0 && !json.Valid(ev.Data) {
		return nil, fieldErr("data", "is not valid JSON")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Keep "<", ">" and "&" as they are, so data round-trips byte for byte
	// (after compaction) instead of growing \u003c escapes.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		// Only a timestamp outside years 0 to 9999 gets here.
		return nil, fieldErr("occurred_at", "cannot be encoded: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
