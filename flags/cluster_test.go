package flags_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/flagstest"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
)

// TestProviderClusterLeaderChange creates the control plane (flag, shadow,
// client and migration buckets, audit stream) with three replicas on an
// embedded three-node cluster and stops the node that leads the flag
// bucket. Two providers, one connected to that node and one to another,
// must keep answering every evaluation, and pick up a stage change made
// after the leader change; after the node is back, a further change
// reaches them too.
func TestProviderClusterLeaderChange(t *testing.T) {
	t.Parallel()
	c := testenv.NewNATSCluster(t, 3)
	_, js := c.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()
	// The control plane as `flags init --replicas 3` creates it.
	cp, err := controlplane.Open(ctx, js, controlplane.Config{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	store := cp.Flags
	bucketStream := "KV_" + flags.DefaultBucket
	for _, name := range []string{
		bucketStream, "KV_" + controlplane.DefaultShadowBucket, "KV_" + controlplane.DefaultClientsBucket,
		"KV_" + migrator.DefaultBucket, controlplane.DefaultAuditStream,
	} {
		assertR3(ctx, t, js, name)
	}
	setStage := func(client string, stage flags.Stage) {
		t.Helper()
		// A change whose outcome a leader change left unknown is made
		// again: over any revision, it is the same change.
		testenv.Eventually(t, 30*time.Second, func() (bool, string) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := store.SetStage(ctx, flags.Change{Client: client, Stage: stage, Reason: "cluster test", Actor: "test", ExpectedRevision: flags.AnyRevision})
			return err == nil, fmt.Sprint(err)
		}, fmt.Sprintf("set %s to %s", client, stage))
	}
	setStage("moved", flags.StageShadow)

	leader := c.WaitStreamLeader(bucketStream, nil, 30*time.Second)
	var follower *testenv.NATSServer
	for _, n := range c.Nodes {
		if n != leader {
			follower = n
			break
		}
	}
	type served struct {
		name string
		of   *openfeature.Client
	}
	var providers []served
	for _, at := range []*testenv.NATSServer{leader, follower} {
		// Each provider has its own connection, as in an application.
		_, pjs := c.ConnectTo(at)
		_, of, _, err := flagstest.StartProvider(t, pjs, flags.ProviderConfig{RetryInterval: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		providers = append(providers, served{name: "provider connected to " + at.Name(), of: of})
	}
	// stageNow evaluates client on p and fails the test on any error: the
	// provider must keep serving through everything.
	stageNow := func(p served, client string) openfeature.StringEvaluationDetails {
		t.Helper()
		d, err := p.of.StringValueDetails(ctx, flags.FlagKey, "legacy", openfeature.NewEvaluationContext(client, nil))
		if err != nil {
			t.Fatalf("%s: evaluating %s failed: %v (%+v)", p.name, client, err, d.ResolutionDetail)
		}
		return d
	}
	waitStage := func(client string, stage flags.Stage, what string) {
		t.Helper()
		start := time.Now()
		for _, p := range providers {
			testenv.Eventually(t, 30*time.Second, func() (bool, string) {
				d := stageNow(p, client)
				return d.Value == string(stage) && d.Reason == openfeature.TargetingMatchReason, fmt.Sprintf("%s %s", d.Value, d.Reason)
			}, fmt.Sprintf("%s: %s", p.name, what))
		}
		t.Logf("%s: served by every provider after %v", what, time.Since(start).Round(time.Millisecond))
	}
	waitStage("moved", flags.StageShadow, "the override loaded")

	leader.Shutdown()
	c.WaitStreamLeader(bucketStream, leader, 30*time.Second)
	for _, p := range providers {
		if d := stageNow(p, "moved"); d.Value != string(flags.StageShadow) {
			t.Fatalf("%s: %s right after the leader stopped, want the last known shadow", p.name, d.Value)
		}
	}
	setStage("moved", flags.StageLegacy)
	waitStage("moved", flags.StageLegacy, "a change made after the leader change")

	leader.Start()
	c.WaitMetaLeader(30 * time.Second)
	c.WaitCurrent(bucketStream, 30*time.Second)
	setStage("late", flags.StageShadow)
	waitStage("late", flags.StageShadow, "a change made after the node came back")
	waitStage("moved", flags.StageLegacy, "the earlier change kept")
}

// assertR3 checks that stream has three replicas.
func assertR3(ctx context.Context, t *testing.T, js jetstream.JetStream, stream string) {
	t.Helper()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream %s: %d replicas configured, cluster %+v; want R3", stream, info.Config.Replicas, info.Cluster)
	}
}
