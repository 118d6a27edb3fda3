package pipelinetest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// TestClusterFaults runs the pipeline on a 3-node JetStream cluster, as
// production does: the event stream, its dead-letter stream, the consumer
// and the control plane's buckets have three replicas. While a producer
// publishes, it SIGKILLs workers, stops the node leading the event stream
// and starts it again, and does the same to the flag bucket's leader. The
// table must equal the model of the stream with nothing dead-lettered, and
// the flag provider must keep serving and pick up a change made after the
// flag bucket's leader changed.
func TestClusterFaults(t *testing.T) {
	cluster := testenv.NewNATSCluster(t, 3)
	_, js := cluster.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	declared, err := subscriptions.Ensure(ctx, js,
		subscriptions.StreamSpec{Name: streamName, Subjects: []string{events.SubjectFilter("")}, Replicas: 3},
		subscriptions.ConsumerSpec{Name: consumerName, Role: "target", AckWait: ackWait, VersionSource: string(events.VersionFromStream)})
	if err != nil {
		t.Fatal(err)
	}
	if ci := declared.Consumer.CachedInfo(); ci.Cluster == nil || len(ci.Cluster.Replicas) != 2 {
		t.Fatalf("consumer cluster %+v: want a leader and two replicas", ci.Cluster)
	}
	cp, err := controlplane.Open(ctx, js, controlplane.Config{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{streamName, subscriptions.DLQStreamName(streamName), "KV_" + flags.DefaultBucket, "KV_" + controlplane.DefaultShadowBucket, controlplane.DefaultAuditStream} {
		if r := replicas(t, js, name); r != 3 {
			t.Fatalf("stream %s has %d replicas, want 3", name, r)
		}
	}

	provider := flags.NewProvider(js, flags.ProviderConfig{RetryInterval: 200 * time.Millisecond})
	if err := provider.InitWithContext(ctx, openfeature.EvaluationContext{}); err != nil {
		t.Fatal(err)
	}
	defer provider.Shutdown()
	setStage(t, cp.Flags, "early", flags.StageShadow)
	waitStage(t, provider, "early", flags.StageShadow)

	p := &pipeline{t: t, url: cluster.URL, js: js, pub: events.NewPublisher(js, "")}
	dsn := sqliteDSN(t)
	evs := genEvents(7, 0, 3000, 100)
	published := p.publishAsync(ctx, evs, 50)
	workerA, workerB := p.startWorker("worker-a", dsn), p.startWorker("worker-b", dsn)

	p.waitAckFloor(300, time.Minute)
	workerA.kill()
	workerA = p.startWorker("worker-a2", dsn)

	p.waitAckFloor(800, time.Minute)
	leader := cluster.StreamLeader(streamName)
	if leader == nil {
		t.Fatal("the event stream has no leader")
	}
	leader.Shutdown()
	newLeader := cluster.WaitStreamLeader(streamName, leader, 30*time.Second)
	t.Logf("stopped %s, the event stream's leader; %s took over", leader.Name(), newLeader.Name())
	p.waitAckFloor(1400, time.Minute)
	leader.Start()
	workerB.kill()
	workerB = p.startWorker("worker-b2", dsn)

	p.waitAckFloor(2000, time.Minute)
	flagsStream := "KV_" + flags.DefaultBucket
	kvLeader := cluster.StreamLeader(flagsStream)
	if kvLeader == nil {
		t.Fatal("the flag bucket has no leader")
	}
	kvLeader.Shutdown()
	cluster.WaitStreamLeader(flagsStream, kvLeader, 30*time.Second)
	if r, _, err := provider.Evaluate("early"); err != nil || r.Stage != flags.StageShadow {
		t.Fatalf("the provider stopped serving across the leader change: %+v, %v", r, err)
	}
	setStage(t, cp.Flags, "late", flags.StageShadow)
	waitStage(t, provider, "late", flags.StageShadow)
	kvLeader.Start()

	if err := <-published; err != nil {
		t.Fatal(err)
	}
	p.waitCommitted(90 * time.Second)
	for _, w := range []*proc{workerA, workerB} {
		if w.exited() {
			t.Fatalf("%s exited instead of riding out the faults: %v", w.name, w.err)
		}
		w.stop(15 * time.Second)
	}
	model, last := streamModel(t, js, streamName, 0)
	if last != uint64(len(evs)) {
		t.Fatalf("the stream holds %d events, want %d", last, len(evs))
	}
	assertTable(t, dsn, model)
	if n := p.deadLetters(); n != 0 {
		t.Fatalf("%d dead letters, want none", n)
	}
}

func replicas(t *testing.T, js jetstream.JetStream, stream string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return st.CachedInfo().Config.Replicas
}

// setStage changes a client's stage, retrying while the bucket elects a
// leader.
func setStage(t *testing.T, store *flags.Store, client string, stage flags.Stage) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := store.SetStage(ctx, flags.Change{Client: client, Stage: stage, Reason: "cluster fault test", Actor: "test", ExpectedRevision: flags.AnyRevision})
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	}, "stage of "+client+" set")
}

func waitStage(t *testing.T, provider *flags.Provider, client string, stage flags.Stage) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		r, reason, err := provider.Evaluate(client)
		if err != nil {
			return false, err.Error()
		}
		return r.Stage == stage, string(r.Stage) + " (" + string(reason) + ")"
	}, "the provider serves "+client+" "+string(stage))
}
