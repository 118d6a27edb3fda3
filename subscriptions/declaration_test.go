package subscriptions_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/subscriptions"
)

func validDeclaration() subscriptions.Declaration {
	return subscriptions.Declaration{
		Prefix: "events", Start: "all", VersionSource: "stream", AckWait: 30 * time.Second,
		MaxDeliver: -1, MaxAckPending: 10, Replicas: 1, Backoff: []string{"1s", "5s"},
		Filters: []string{"events.tasks.>"}, UpdateStream: []string{"max-age"}, PlacementTags: []string{"ssd"},
	}
}

func TestDeclarationSpecs(t *testing.T) {
	s, c, err := validDeclaration().Specs("EVENTS", "target")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "EVENTS" || len(s.Subjects) != 1 || s.Subjects[0] != "events.>" || s.Placement == nil || len(s.Update) != 1 {
		t.Errorf("stream spec %+v", s)
	}
	if c.Stream != "EVENTS" || c.Name != "target" || len(c.Backoff) != 2 || c.Backoff[1] != 5*time.Second || c.MaxDeliver != -1 {
		t.Errorf("consumer spec %+v", c)
	}
}

func TestDeclarationRefusals(t *testing.T) {
	for want, change := range map[string]func(*subscriptions.Declaration){
		"--prefix":                func(d *subscriptions.Declaration) { d.Prefix = "a.>" },
		"--start":                 func(d *subscriptions.Declaration) { d.Start = "soon" },
		"--version-source":        func(d *subscriptions.Declaration) { d.VersionSource = "clock" },
		"--role":                  func(d *subscriptions.Declaration) { d.Role = "primary" },
		"--ack-wait":              func(d *subscriptions.Declaration) { d.AckWait = 0 },
		"must not be negative":    func(d *subscriptions.Declaration) { d.MaxBytes = -1 },
		"--replicas":              func(d *subscriptions.Declaration) { d.Replicas = 2 + 4 },
		"--update-stream":         func(d *subscriptions.Declaration) { d.UpdateStream = []string{"retention"} },
		"positive or -1":          func(d *subscriptions.Declaration) { d.MaxDeliver = 0 },
		"--max-ack-pending":       func(d *subscriptions.Declaration) { d.MaxAckPending = 0 },
		"not a positive duration": func(d *subscriptions.Declaration) { d.Backoff = []string{"-1s"} },
		"must exceed the 2":       func(d *subscriptions.Declaration) { d.MaxDeliver = 2 },
		"outside the stream's":    func(d *subscriptions.Declaration) { d.Filters = []string{"other.x"} },
	} {
		d := validDeclaration()
		change(&d)
		_, _, err := d.Specs("EVENTS", "target")
		if !errors.Is(err, subscriptions.ErrInvalidDeclaration) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}
