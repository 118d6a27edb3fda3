package migrator

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/subscriptions"
)

func TestStatusShowsEverythingAndRedactsPasswords(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.consumer(legacyName, "legacy", subscriptions.StartAll)
	e.consumer(targetName, "target", subscriptions.StartNew)
	src, _ := sqliteStore(t, "source")
	dst, _ := sqliteStore(t, "target")
	seed(t, src, "tasks", 300)
	cfg := e.backfillConfig(src, dst, "tasks")
	cfg.SourceName = "postgres://app:s3cret-pw@legacy:5432/app"
	cfg.TargetName = "sqlserver://sa:an0ther-pw@mssql:1433?database=app"
	if _, err := Backfill(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.state.UpdateBackfillControl(ctx, func(c *BackfillControl) { c.Paused, c.MaxRate = true, 750 }); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, e.verifyConfig(src, dst, nil, "tasks")); err != nil {
		t.Fatal(err)
	}
	stages := fakeStages{counts: map[string]int{"legacy": 2, "shadow": 1, "target": 7}}
	st, err := GatherStatus(ctx, StatusConfig{JS: e.js, State: e.state, Stream: testStream, ReadStages: stages})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := st.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(st)
	for _, out := range []string{text.String(), string(js)} {
		if strings.Contains(out, "s3cret-pw") || strings.Contains(out, "an0ther-pw") {
			t.Fatalf("status leaks a password:\n%s", out)
		}
	}
	for _, want := range []string{
		"Migration phase: verifying", "[verifying]", "app:xxxxx@legacy", "sa:xxxxx@mssql", "legacy ", "target ",
		"tasks", "done", "complete, paused", "max 750 rows/s", "CLEAN", "legacy         2 clients", "target         7 clients",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, text.String())
		}
	}
	if len(st.Subscriptions) != 2 || st.Verify == nil || st.Verify.AgeSeconds < 0 {
		t.Fatalf("status %+v", st)
	}
	if st.ReadStages["shadow"] != 1 {
		t.Fatalf("read stages %v", st.ReadStages)
	}
}

func TestProgressBarAndETA(t *testing.T) {
	s := ProgressSnapshot{Task: "backfill", Done: 250, Total: 1000, Rate: 50, Detail: "tasks"}
	if s.ETA() != 15*time.Second {
		t.Fatalf("ETA %v, want 15s", s.ETA())
	}
	bar := Bar(s, 20)
	for _, want := range []string{"backfill [", "25.0%", "250/1000 rows", "50 rows/s", "ETA 15s", "tasks"} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar %q lacks %q", bar, want)
		}
	}
	if (ProgressSnapshot{Done: 5}).ETA() != 0 {
		t.Fatal("an unknown total must give no ETA")
	}
	var lines bytes.Buffer
	p := NewProgress(&lines, nil, time.Hour)
	p.Report(s) // not a terminal: a log line, at most one per interval
	p.Report(s)
	p.Done()
	if lines.Len() != 0 {
		t.Fatalf("a non-terminal must not get a bar: %q", lines.String())
	}
}

func TestAverageRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rate, eta := averageRate([]EntityProgress{
		{Scanned: 1000, Estimate: 1000, StartedAt: t0, UpdatedAt: t0.Add(5 * time.Second), Done: true},
		{Scanned: 1000, Estimate: 4000, StartedAt: t0.Add(time.Second), UpdatedAt: t0.Add(10 * time.Second)},
	})
	if rate != 200 || eta != 15*time.Second {
		t.Fatalf("rate %v eta %v, want 200 rows/s and 15s", rate, eta)
	}
	if rate, _ := averageRate(nil); rate != 0 {
		t.Fatalf("no progress gave rate %v", rate)
	}
}
