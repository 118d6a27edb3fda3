package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/events"
)

func sampleEvent() events.Event {
	return events.Event{
		ID:         "01J0-abc",
		Type:       "task.renamed",
		Entity:     "tasks",
		Key:        "task-42",
		Client:     "acme",
		Op:         events.OpUpsert,
		Version:    7,
		OccurredAt: time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("", 2*3600)),
		Data:       json.RawMessage(`{"title":"<b>renamed</b> & done","tags":["a","b"]}`),
	}
}

// sameEvent compares two events field by field: timestamps as instants,
// data as compacted JSON.
func sameEvent(a, b events.Event) bool {
	var ca, cb bytes.Buffer
	if len(a.Data) > 0 && json.Compact(&ca, a.Data) != nil {
		return false
	}
	if len(b.Data) > 0 && json.Compact(&cb, b.Data) != nil {
		return false
	}
	return a.ID == b.ID && a.Type == b.Type && a.Entity == b.Entity && a.Key == b.Key &&
		a.Client == b.Client && a.Op == b.Op && a.Version == b.Version &&
		a.OccurredAt.Equal(b.OccurredAt) && bytes.Equal(ca.Bytes(), cb.Bytes())
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	del := sampleEvent()
	del.Op, del.Data, del.Version = events.OpDelete, nil, 0
	for name, ev := range map[string]events.Event{"upsert": sampleEvent(), "delete without version": del} {
		t.Run(name, func(t *testing.T) {
			payload, err := events.Encode(ev)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := events.Decode(payload)
			if err != nil {
				t.Fatalf("Decode(%s): %v", payload, err)
			}
			if !sameEvent(ev, got) {
				t.Fatalf("round trip changed the event:\n in  %+v\n out %+v", ev, got)
			}
		})
	}
}

func TestEncodeOmitsAbsentFields(t *testing.T) {
	ev := sampleEvent()
	ev.Op, ev.Data, ev.Version = events.OpDelete, nil, 0
	payload, err := events.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"version", "data"} {
		if _, ok := m[f]; ok {
			t.Errorf("%s is present in %s", f, payload)
		}
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	cases := map[string]struct {
		mutate func(*events.Event)
		field  string
	}{
		"no id":          {func(e *events.Event) { e.ID = "" }, "id"},
		"bad entity":     {func(e *events.Event) { e.Entity = "Tasks" }, "entity"},
		"unknown op":     {func(e *events.Event) { e.Op = "merge" }, "op"},
		"negative ver":   {func(e *events.Event) { e.Version = -1 }, "version"},
		"no time":        {func(e *events.Event) { e.OccurredAt = time.Time{} }, "occurred_at"},
		"data not JSON":  {func(e *events.Event) { e.Data = json.RawMessage(`{"a":`) }, "data"},
		"data an array":  {func(e *events.Event) { e.Data = json.RawMessage(`[]`) }, "data"},
		"delete w/ data": {func(e *events.Event) { e.Op = events.OpDelete }, "data"},
		"year 10000":     {func(e *events.Event) { e.OccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "occurred_at"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := sampleEvent()
			tc.mutate(&ev)
			_, err := events.Encode(ev)
			var fe *events.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("Encode: %v, want a *FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("Field = %q, want %q", fe.Field, tc.field)
			}
		})
	}
}

func TestOpValid(t *testing.T) {
	for op, want := range map[events.Op]bool{events.OpUpsert: true, events.OpDelete: true, "": false, "Upsert": false, "merge": false} {
		if op.Valid() != want {
			t.Errorf("Op(%q).Valid() = %v", op, !want)
		}
	}
}

func TestValidEntity(t *testing.T) {
	for name, want := range map[string]bool{
		"tasks": true, "t": true, "task_items_2": true, "a" + string(bytes.Repeat([]byte("b"), 62)): true,
		"": false, "Tasks": false, "_tasks": false, "9tasks": false, "tasks-x": false, "tâches": false,
		"a" + string(bytes.Repeat([]byte("b"), 63)): false, "tasks\n": false,
	} {
		if events.ValidEntity(name) != want {
			t.Errorf("ValidEntity(%q) = %v, want %v", name, !want, want)
		}
	}
}

// FuzzValidEntity holds the byte loop of ValidEntity to the grammar it
// implements, written as the regular expression it replaced.
func FuzzValidEntity(f *testing.F) {
	grammar := regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	for _, seed := range []string{"tasks", "", "a_1", "A", "_a", "9", "a-b", "tâches", "tasks\n", strings.Repeat("a", 63), strings.Repeat("a", 64)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := events.ValidEntity(name), grammar.MatchString(name); got != want {
			t.Fatalf("ValidEntity(%q) = %v, the grammar says %v", name, got, want)
		}
	})
}
