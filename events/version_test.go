package events_test

import (
	"errors"
	"testing"

	"github.com/switchyard/switchyard/events"
)

func TestParseVersionSource(t *testing.T) {
	for in, want := range map[string]events.VersionSource{"stream": events.VersionFromStream, "producer": events.VersionFromProducer} {
		got, err := events.ParseVersionSource(in)
		if err != nil || got != want {
			t.Errorf("ParseVersionSource(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "Stream", "seq", "both"} {
		if _, err := events.ParseVersionSource(bad); err == nil {
			t.Errorf("ParseVersionSource(%q) accepted", bad)
		}
	}
}

func TestVersionSourceResolve(t *testing.T) {
	withVersion := sampleEvent()
	withVersion.Version = 9
	without := sampleEvent()
	without.Version = 0
	cases := []struct {
		name    string
		src     events.VersionSource
		ev      events.Event
		seq     uint64
		want    int64
		invalid bool
	}{
		{"producer uses the event version", events.VersionFromProducer, withVersion, 1234, 9, false},
		{"producer requires a version", events.VersionFromProducer, without, 1234, 0, true},
		{"stream uses the sequence", events.VersionFromStream, without, 1234, 1234, false},
		{"stream refuses a version", events.VersionFromStream, withVersion, 1234, 0, true},
		{"empty source means stream", "", without, 55, 55, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.src.Resolve(tc.ev, tc.seq)
			if tc.invalid {
				var fe *events.FieldError
				if !errors.As(err, &fe) || fe.Field != "version" || !errors.Is(err, events.ErrInvalid) {
					t.Fatalf("Resolve = %d, %v; want a version FieldError", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
