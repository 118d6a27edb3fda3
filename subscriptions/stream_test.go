package subscriptions_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestSubjectCovers(t *testing.T) {
	cases := []struct {
		pattern, filter string
		want            bool
	}{
		{"events.>", "events.>", true},
		{"events.>", "events.tasks.upsert", true},
		{"events.>", "events.*", true},
		{"events.>", "events.tasks.>", true},
		{"events.>", "events", false},
		{"events.>", "orders.>", false},
		{"events.*", "events.>", false},
		{"events.*", "events.a", true},
		{"events.*", "events.*", true},
		{"events.*", "events.a.b", false},
		{"events.a", "events.*", false},
		{"events.a", "events.a", true},
		{">", "anything.at.all", true},
		{">", ">", true},
		{"*.tasks.>", "events.tasks.upsert", true},
		{"*.tasks.>", "events.*.upsert", false},
	}
	for _, c := range cases {
		if got := subscriptions.SubjectCovers(c.pattern, c.filter); got != c.want {
			t.Errorf("SubjectCovers(%q, %q) = %v, want %v", c.pattern, c.filter, got, c.want)
		}
	}
}

var switchyardStream = subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}

func TestDeclareStreamCreatesWithDeclaredSettings(t *testing.T) {
	_, js := testenv.NATS(t).Connect()
	spec := subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}, MaxAge: time.Hour, MaxMsgs: 500, MaxBytes: 1 << 20, DuplicateWindow: 5 * time.Minute}
	_, report, err := subscriptions.DeclareStream(testCtx(t), js, spec, nil)
	if err != nil || !report.Created {
		t.Fatalf("create: %+v, %v", report, err)
	}
	cfg := testenv.StreamConfig(t, js, "EVENTS")
	if cfg.MaxAge != time.Hour || cfg.MaxMsgs != 500 || cfg.MaxBytes != 1<<20 || cfg.Duplicates != 5*time.Minute || cfg.Replicas != 1 || cfg.Storage != jetstream.FileStorage {
		t.Fatalf("created %+v", cfg)
	}
}

func TestDeclareStreamLeavesTheApplicationsStreamAlone(t *testing.T) {
	_, js := testenv.NATS(t).Connect()
	before := testenv.ApplicationStream(t, js, nil)
	for i := 0; i < 2; i++ {
		_, report, err := subscriptions.DeclareStream(testCtx(t), js, switchyardStream, []string{"events.tasks.>"})
		if err != nil {
			t.Fatalf("declare over the application's stream: %v", err)
		}
		if report.Created || len(report.Updated) != 0 {
			t.Fatalf("report %+v: nothing may be created or updated", report)
		}
		var fields []subscriptions.StreamField
		for _, d := range report.Differences {
			fields = append(fields, d.Field)
		}
		want := []subscriptions.StreamField{subscriptions.FieldDuplicateWindow, subscriptions.FieldMaxAge, subscriptions.FieldMaxMsgs}
		if !reflect.DeepEqual(fields, want) {
			t.Fatalf("differences %+v, want fields %v", report.Differences, want)
		}
	}
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
		t.Fatalf("the stream changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestDeclareStreamRefusesAnUnusableStream(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*jetstream.StreamConfig)
		filters []string
		reason  string
	}{
		{"subjects", func(c *jetstream.StreamConfig) { c.Subjects = []string{"orders.>", "events.tasks.*"} }, []string{"events.tasks.>"}, "do not capture events.tasks.>"},
		{"no filter, subjects", func(c *jetstream.StreamConfig) { c.Subjects = []string{"events.tasks.*"} }, nil, "do not capture events.>"},
		{"duplicate window", func(c *jetstream.StreamConfig) { c.Duplicates = 30 * time.Second }, nil, "duplicate window 30s is shorter than the 2m0s"},
		{"work queue", func(c *jetstream.StreamConfig) { c.Retention = jetstream.WorkQueuePolicy }, nil, "work-queue retention"},
		{"memory", func(c *jetstream.StreamConfig) { c.Storage = jetstream.MemoryStorage }, nil, "memory storage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, js := testenv.NATS(t).Connect()
			before := testenv.ApplicationStream(t, js, c.mutate)
			_, _, err := subscriptions.DeclareStream(testCtx(t), js, switchyardStream, c.filters)
			var unusable *subscriptions.UnusableError
			if !errors.Is(err, subscriptions.ErrStreamUnusable) || !errors.As(err, &unusable) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err = %v, want an UnusableError saying %q", err, c.reason)
			}
			if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused stream changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	t.Run("interest retention is fine", func(t *testing.T) {
		_, js := testenv.NATS(t).Connect()
		testenv.ApplicationStream(t, js, func(c *jetstream.StreamConfig) { c.Retention = jetstream.InterestPolicy })
		if _, _, err := subscriptions.DeclareStream(testCtx(t), js, switchyardStream, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeclareStreamUpdatesOnlyWhatItIsTold(t *testing.T) {
	_, js := testenv.NATS(t).Connect()
	before := testenv.ApplicationStream(t, js, func(c *jetstream.StreamConfig) { c.Subjects = []string{"orders.>"} })
	spec := switchyardStream
	spec.MaxAge = 48 * time.Hour
	spec.Update = []subscriptions.StreamField{subscriptions.FieldSubjects, subscriptions.FieldMaxAge}
	_, report, err := subscriptions.DeclareStream(testCtx(t), js, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Updated) != 2 {
		t.Fatalf("updated %+v, want subjects and max-age", report.Updated)
	}
	want := before
	want.Subjects = []string{"orders.>", "events.>"}
	want.MaxAge = 48 * time.Hour
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, want) {
		t.Fatalf("after the update:\ngot  %+v\nwant %+v", after, want)
	}

	spec.Update = []subscriptions.StreamField{subscriptions.FieldReplicas}
	spec.Replicas = 1
	applied := testenv.StreamConfig(t, js, "EVENTS")
	if _, _, err := subscriptions.DeclareStream(testCtx(t), js, spec, nil); err != nil {
		t.Fatalf("replicas already at 1: %v", err)
	}
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, applied) {
		t.Fatalf("an update of replicas to the same count changed %+v", after)
	}
}

func TestDeclareStreamRaisesReplicasWhenTold(t *testing.T) {
	// A single server cannot hold R3: the update is sent, and refused by the server.
	_, js := testenv.NATS(t).Connect()
	testenv.ApplicationStream(t, js, nil)
	spec := switchyardStream
	spec.DuplicateWindow = 10 * time.Minute
	spec.Update = []subscriptions.StreamField{subscriptions.FieldReplicas}
	spec.Replicas = 3
	_, _, err := subscriptions.DeclareStream(testCtx(t), js, spec, nil)
	if err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("raising replicas on a single server: %v, want the server's refusal", err)
	}
	if got := testenv.StreamConfig(t, js, "EVENTS").Replicas; got != 1 {
		t.Fatalf("replicas %d", got)
	}
}

func TestEnsureStreamRejectsIncompleteSpec(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	for _, spec := range []subscriptions.StreamSpec{{Subjects: []string{"a.>"}}, {Name: "X"}, {Name: "X", Subjects: []string{"x.>"}, Update: []subscriptions.StreamField{"retention"}}} {
		if _, err := subscriptions.EnsureStream(testCtx(t), js, spec); err == nil {
			t.Errorf("EnsureStream(%+v) accepted", spec)
		}
	}
}

func TestEnsureFiltersOnItsSubjectsInASharedStream(t *testing.T) {
	_, js := testenv.NATS(t).Connect()
	testenv.ApplicationStream(t, js, nil)
	spec := switchyardStream
	spec.DuplicateWindow = 10 * time.Minute
	d, err := subscriptions.Ensure(testCtx(t), js, spec, subscriptions.ConsumerSpec{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Consumer.CachedInfo().Config; !slices.Equal(append(got.FilterSubjects, got.FilterSubject), []string{"events.>", ""}) &&
		!slices.Equal(append(got.FilterSubjects, got.FilterSubject), []string{"events.>"}) {
		t.Fatalf("consumer filters %q / %q, want events.> only: orders are not events", got.FilterSubjects, got.FilterSubject)
	}
}

func TestEnsureDLQ(t *testing.T) {
	_, js := eventsStream(t)
	ctx := testCtx(t)
	// Twice: idempotent.
	st, err := subscriptions.EnsureDLQ(ctx, js, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.Config.Name != "EVENTS_DLQ" || len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "switchyard.dlq.EVENTS.>" {
		t.Fatalf("DLQ config: %+v", info.Config)
	}
	if info.Config.MaxAge != 0 {
		t.Fatalf("dead letters expire after %v", info.Config.MaxAge)
	}
	if got := subscriptions.DLQSubject("EVENTS", "target"); got != "switchyard.dlq.EVENTS.target" {
		t.Fatalf("DLQSubject = %s", got)
	}
}
