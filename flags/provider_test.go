package flags_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/reads"
)

func TestProviderFollowsChanges(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	if _, err := env.Store.SetStage(ctx, flags.Change{Client: "early", Stage: flags.StageShadow, Reason: "r", Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	p, of, events, err := flagstest.StartProvider(t, env.JS, flags.ProviderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if d := flagstest.StageOf(t, of, "early"); d.Value != "shadow" || d.Reason != openfeature.TargetingMatchReason || d.Variant != "shadow" {
		t.Fatalf("loaded override: %+v", d.ResolutionDetail)
	}
	if d := flagstest.StageOf(t, of, "other"); d.Value != "legacy" || d.Reason != openfeature.DefaultReason || d.Variant != "legacy" {
		t.Fatalf("default: %+v", d.ResolutionDetail)
	}
	if _, err := env.Store.SetStage(ctx, flags.Change{Client: "late", Stage: flags.StageShadow, Reason: "r", Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		d := flagstest.StageOf(t, of, "late")
		return d.Value == "shadow" && events.Count(openfeature.ProviderConfigChange) > 0,
			fmt.Sprintf("stage %s, %d change events", d.Value, events.Count(openfeature.ProviderConfigChange))
	}, "override reaches the provider through the watch")
	if _, err := env.Store.SetRollout(ctx, flags.ConfigChange{Stage: flags.StageShadow, Reason: "r", Actor: "a"}, 10000); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		d := flagstest.StageOf(t, of, "other")
		return d.Value == "shadow" && d.Reason == openfeature.SplitReason, fmt.Sprintf("%s %s", d.Value, d.Reason)
	}, "rollout reaches the provider")
	// Bad input never panics and answers the default with an error code.
	d, err := of.StringValueDetails(ctx, flags.FlagKey, "legacy", openfeature.NewEvaluationContext("bad\x00id", nil))
	if err == nil || d.ErrorCode != openfeature.InvalidContextCode || d.Value != "legacy" {
		t.Fatalf("invalid client: %+v, %v", d, err)
	}
	d, err = of.StringValueDetails(ctx, "other-flag", "x", openfeature.NewEvaluationContext("c", nil))
	if err == nil || d.ErrorCode != openfeature.FlagNotFoundCode {
		t.Fatalf("unknown flag: %+v, %v", d, err)
	}
	// The provider itself serves as a StageEvaluator with the same answers.
	var direct reads.StageEvaluator = p
	d, err = direct.StringValueDetails(ctx, flags.FlagKey, "legacy", openfeature.NewEvaluationContext("late", nil))
	if err != nil || d.Value != "shadow" || d.Reason != openfeature.TargetingMatchReason {
		t.Fatalf("direct: %+v, %v", d, err)
	}
	d, err = direct.StringValueDetails(ctx, flags.FlagKey, "legacy", openfeature.NewEvaluationContext("", nil))
	if err == nil || d.ErrorCode != openfeature.TargetingKeyMissingCode || d.Value != "legacy" {
		t.Fatalf("direct without client: %+v, %v", d, err)
	}
}

func TestProviderErrorWhenBucketUnreachableAtStart(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	_, of, events, err := flagstest.StartProvider(t, js, flags.ProviderConfig{Bucket: "missing", InitTimeout: time.Second})
	if err == nil || !errors.Is(err, flags.ErrUnavailable) {
		t.Fatalf("init err = %v, want ErrUnavailable", err)
	}
	if of.State() != openfeature.ErrorState {
		t.Fatalf("state = %s, want ERROR", of.State())
	}
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		return events.Count(openfeature.ProviderError) > 0, "no PROVIDER_ERROR"
	}, "PROVIDER_ERROR delivered")
	// Once the bucket exists the provider recovers on its own.
	if _, err := flags.OpenStore(testenv.Context(t), js, flags.StoreConfig{Bucket: "missing"}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return of.State() == openfeature.ReadyState, string(of.State())
	}, "provider becomes ready once the bucket exists")
}

func TestProviderErrorWhenNATSDownAtStart(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	if _, err := env.Store.SetStage(testenv.Context(t), flags.Change{Client: "c", Stage: flags.StageShadow, Reason: "r", Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	_, pjs := env.NATS.Connect()
	env.NATS.Shutdown()
	p, of, _, err := flagstest.StartProvider(t, pjs, flags.ProviderConfig{InitTimeout: 500 * time.Millisecond, RetryInterval: 200 * time.Millisecond})
	if !errors.Is(err, flags.ErrUnavailable) || of.State() != openfeature.ErrorState || p.Snapshot() != nil {
		t.Fatalf("init with NATS down: err %v, state %s", err, of.State())
	}
	// Evaluations answer the caller's default with an error, never a guess.
	d, err := of.StringValueDetails(context.Background(), flags.FlagKey, "legacy", openfeature.NewEvaluationContext("c", nil))
	if err == nil || d.Value != "legacy" {
		t.Fatalf("evaluation before load: %+v, %v", d, err)
	}
	env.NATS.Start()
	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		d, err := of.StringValueDetails(context.Background(), flags.FlagKey, "legacy", openfeature.NewEvaluationContext("c", nil))
		return err == nil && d.Value == "shadow" && of.State() == openfeature.ReadyState, fmt.Sprintf("%s %v %s", d.Value, err, of.State())
	}, "provider loads once NATS is back")
}

func TestProviderServesLastKnownValuesAndRecovers(t *testing.T) {
	env := flagstest.NewStoreEnv(t)
	ctx := testenv.Context(t)
	if _, err := env.Store.SetStage(ctx, flags.Change{Client: "c", Stage: flags.StageShadow, Reason: "r", Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	// The provider gets its own connection, as in an application.
	_, pjs := env.NATS.Connect()
	p, of, events, err := flagstest.StartProvider(t, pjs, flags.ProviderConfig{RetryInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	env.NATS.Shutdown()
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return of.State() == openfeature.StaleState && p.Stale(), string(of.State())
	}, "provider goes stale when NATS drops")
	d := flagstest.StageOf(t, of, "c")
	if d.Value != "shadow" || d.Reason != flags.ReasonStale || d.FlagMetadata["source"] != "override" {
		t.Fatalf("stale evaluation: %+v", d.ResolutionDetail)
	}
	if events.Count(openfeature.ProviderStale) == 0 {
		t.Fatal("no PROVIDER_STALE event")
	}

	env.NATS.Start()
	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		return of.State() == openfeature.ReadyState && !p.Stale(), string(of.State())
	}, "provider recovers after NATS returns")
	// Changes made after the restart reach it.
	_, js := env.NATS.Connect()
	audit, err := flags.OpenAuditLog(ctx, js, flags.AuditConfig{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := flags.OpenStore(ctx, js, flags.StoreConfig{Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetStage(ctx, flags.Change{Client: "c", Stage: flags.StageLegacy, Reason: "rollback", Actor: "a", ExpectedRevision: flags.AnyRevision}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		d := flagstest.StageOf(t, of, "c")
		return d.Value == "legacy" && d.Reason == openfeature.TargetingMatchReason, fmt.Sprintf("%s %s", d.Value, d.Reason)
	}, "change after recovery reaches the provider")
}
