package events_test

import (
	"errors"
	"testing"

	"github.com/switchyard/switchyard/events"
)

func TestSubject(t *testing.T) {
	if got := events.Subject("", "tasks", events.OpUpsert); got != "events.tasks.upsert" {
		t.Errorf("default prefix: %s", got)
	}
	if got := events.Subject("acme.prod", "tasks", events.OpDelete); got != "acme.prod.tasks.delete" {
		t.Errorf("custom prefix: %s", got)
	}
	if got := events.SubjectFilter(""); got != "events.>" {
		t.Errorf("default filter: %s", got)
	}
	if got := events.SubjectFilter("acme.prod"); got != "acme.prod.>" {
		t.Errorf("custom filter: %s", got)
	}
}

func TestCheckSubject(t *testing.T) {
	ev := sampleEvent()
	if err := events.CheckSubject("", "events.tasks.upsert", ev); err != nil {
		t.Fatalf("matching subject: %v", err)
	}
	for _, subject := range []string{"events.tasks.delete", "events.users.upsert", "other.tasks.upsert", "events.tasks"} {
		err := events.CheckSubject("", subject, ev)
		var fe *events.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, events.ErrInvalid) {
			t.Errorf("CheckSubject(%q) = %v, want a FieldError", subject, err)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for prefix, want := range map[string]bool{
		"events": true, "acme.events": true, "a-b.c_d": true,
		"": false, ".events": false, "events.": false, "a..b": false, "events.*": false, "events.>": false, "ev ents": false,
	} {
		if events.ValidPrefix(prefix) != want {
			t.Errorf("ValidPrefix(%q) = %v, want %v", prefix, !want, want)
		}
	}
}

// TestCheckSubjectMatchesSubject: the check accepts exactly the subject
// Subject builds, and nothing near it.
func TestCheckSubjectMatchesSubject(t *testing.T) {
	ev := events.Event{Entity: "task", Op: events.OpUpsert}
	for _, c := range []struct{ prefix, subject string }{
		{"", "events.task.upsert"}, {"events", "events.task.upsert"}, {"app.ev", "app.ev.task.upsert"},
		{"", "events.task.delete"}, {"", "events.tasks.upsert"}, {"", "events.task.upsert.x"},
		{"", "events.task"}, {"", "events.task."}, {"", "eventstask.upsert"}, {"", "events.taskupsert"}, {"", "other.task.upsert"},
		{"app", "app.task.upsert"}, {"app", "events.task.upsert"}, {"", ""},
	} {
		want := c.subject == events.Subject(c.prefix, ev.Entity, ev.Op)
		if err := events.CheckSubject(c.prefix, c.subject, ev); (err == nil) != want {
			t.Errorf("CheckSubject(%q, %q) = %v, want accepted %v", c.prefix, c.subject, err, want)
		}
	}
}
