package migrationstatus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/console/migrationstatus"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
)

func TestSourceCollectsEveryPart(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	state, err := migrator.OpenState(ctx, js, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Advance(ctx, migrator.PhaseVerifying); err != nil {
		t.Fatal(err)
	}
	finished := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := state.SaveVerify(ctx, migrator.VerifyResult{Complete: true, Differences: 2, RowsSource: 10, RowsTarget: 9,
		DirtyClients: map[string]int64{"acme": 2}, FinishedAt: finished}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "EVENTS", jetstream.ConsumerConfig{Durable: "target", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "events.tasks.upsert", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetStage(ctx, flags.Change{Client: "acme", Stage: flags.StageShadow, Reason: "pilot", Actor: "ann"}); err != nil {
		t.Fatal(err)
	}

	src := &migrationstatus.Source{State: state, JS: js, Stream: "EVENTS", Flags: store}
	st, err := src.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != "verifying" || len(st.Problems) != 0 {
		t.Fatalf("phase %q, problems %v", st.Phase, st.Problems)
	}
	if v := st.LastVerify; v == nil || v.Clean || v.Findings != 2 || !v.At.Equal(finished) || !strings.Contains(v.Summary, "10 source and 9 target rows") {
		t.Fatalf("last verify %+v", st.LastVerify)
	}
	if len(st.Subscriptions) != 1 || st.Subscriptions[0].Name != "target" || st.Subscriptions[0].Lag != 1 {
		t.Fatalf("subscriptions %+v", st.Subscriptions)
	}
	if st.StageCounts[console.StageShadow] != 1 || st.StageCounts[console.StageTarget] != 0 {
		t.Fatalf("stage counts %v", st.StageCounts)
	}

	// A missing stream is reported, the rest still shown.
	src.Stream = "NOPE"
	st, err = src.MigrationStatus(ctx)
	if err != nil || st.Phase != "verifying" || len(st.Problems) != 1 || !strings.HasPrefix(st.Problems[0], "subscriptions:") {
		t.Fatalf("missing stream: %v, problems %v", err, st.Problems)
	}

	// Nothing configured: unavailable.
	if _, err := (&migrationstatus.Source{}).MigrationStatus(ctx); !errors.Is(err, console.ErrUnavailable) {
		t.Fatalf("empty source: %v", err)
	}

	// The gates read the same state.
	g := controlplane.Gates{State: state}
	if ok, detail, err := g.ClientVerifyClean(ctx, "acme"); err != nil || ok || !strings.Contains(detail, "2 differences") {
		t.Fatalf("acme verify gate: %v %q %v", ok, detail, err)
	}
	if ok, detail, err := g.ClientVerifyClean(ctx, "globex"); err != nil || !ok || !strings.Contains(detail, "clean") {
		t.Fatalf("globex verify gate: %v %q %v", ok, detail, err)
	}
	if ok, detail, err := g.BackfillComplete(ctx); err != nil || ok || detail == "" {
		t.Fatalf("backfill gate without a backfill: %v %q %v", ok, detail, err)
	}
}
