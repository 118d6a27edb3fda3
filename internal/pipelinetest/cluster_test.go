package pipelinetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// fleet is one R3 consumer into one store and the worker processes that
// share it.
type fleet struct {
	*pipeline
	sink    string // "sqlite" or "postgres"
	dsn     string
	workers []*proc
	started int
	floor   uint64 // ack floor at the last fault
}

// startWorkers starts n more workers of the fleet.
func (f *fleet) startWorkers(n int) {
	for range n {
		f.started++
		f.workers = append(f.workers, f.startWorker(fmt.Sprintf("%s-worker-%d", f.sink, f.started), f.dsn))
	}
}

// killOne SIGKILLs the fleet's oldest worker and starts a new one. It
// reports whether the kill caught the consumer with events in flight.
func (f *fleet) killOne() bool {
	f.workers[0].kill()
	st, err := f.status()
	inFlight := err == nil && st.AckPending > 0
	f.workers = f.workers[1:]
	f.startWorkers(1)
	return inFlight
}

// waitAdvance waits until the fleet acknowledged n more events than at the
// previous call: events keep flowing through whatever was just done.
func (f *fleet) waitAdvance(n uint64, timeout time.Duration) {
	f.t.Helper()
	target := f.floor + n
	f.waitAckFloor(target, timeout)
	f.floor = target
}

// TestClusterFaults runs the pipeline on an embedded three-node JetStream
// cluster: an R3 stream and dead-letter stream as the application's
// operator would create them, and one R3 consumer per store (SQLite, and
// PostgreSQL when reachable), each shared by two worker processes given
// every node's URL. While a producer keeps publishing (retrying, with the
// same Nats-Msg-Id, every publish whose acknowledgement did not arrive) the
// test SIGKILLs workers, stops the stream's leader node, restarts it, and
// restarts another node. Every table must then equal the model of what the
// stream acknowledged to the producer, the stream must hold each
// acknowledged event exactly once, and no event may be dead-lettered.
func TestClusterFaults(t *testing.T) {
	t.Parallel()
	pgDSN, pgSkipped := testenv.PostgresIfReachable(t)
	c := testenv.NewNATSCluster(t, 3)
	_, js := c.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()

	declareR3(ctx, t, js)
	newFleet := func(sink, dsn string) *fleet {
		consumer := "target-" + sink
		if _, err := subscriptions.EnsureConsumer(ctx, js, subscriptions.ConsumerSpec{
			Stream: streamName, Name: consumer, Role: "target", AckWait: ackWait,
			VersionSource: string(events.VersionFromStream),
		}); err != nil {
			t.Fatal(err)
		}
		assertConsumerR3(ctx, t, js, consumer)
		p := &pipeline{t: t, js: js, pub: events.NewPublisher(js, ""), url: c.URL, consumer: consumer}
		return &fleet{pipeline: p, sink: sink, dsn: dsn}
	}
	fleets := []*fleet{newFleet("sqlite", sqliteDSN(t))}
	if pgSkipped == nil {
		fleets = append(fleets, newFleet("postgres", pgDSN))
	}
	for _, f := range fleets {
		f.startWorkers(2)
	}

	// The producer has its own connection, as the application would,
	// first through a proxy to one node, so that the test can keep it
	// from learning the outcome of its publishes; then to every node.
	proxy := newTCPProxy(t, strings.TrimPrefix(c.Nodes[0].URL, "nats://"))
	pnc, err := nats.Connect("nats://"+proxy.Addr()+","+c.URL, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer pnc.Close()
	pjs, err := jetstream.New(pnc, jetstream.WithPublishAsyncTimeout(ackTimeout))
	if err != nil {
		t.Fatal(err)
	}
	producer := newAckedProducer(pjs)
	stop := make(chan struct{})
	type result struct {
		n   int
		err error
	}
	produced := make(chan result, 1)
	go func() {
		n, err := producer.run(ctx, stop, 50*time.Millisecond, func(first int) []events.Event {
			return genEvents(11, first, 20, 100)
		})
		produced <- result{n, err}
	}()
	var stopOnce sync.Once
	var res result
	stopProducer := func() result {
		stopOnce.Do(func() {
			close(stop)
			res = <-produced
		})
		return res
	}
	// On failure, end the producer's retries before waiting for it.
	defer func() { cancel(); stopProducer() }()

	const step, stepTimeout = 300, 30 * time.Second
	producedAt := 0 // acknowledged to the producer at the previous step
	advance := func(what string) {
		t.Helper()
		target := producedAt + step
		testenv.Eventually(t, stepTimeout, func() (bool, string) {
			return producer.count() >= target, fmt.Sprintf("%d acknowledged", producer.count())
		}, fmt.Sprintf("the producer publishing on (%d events acknowledged)", target))
		for _, f := range fleets {
			f.waitAdvance(step, stepTimeout)
		}
		producedAt = producer.count()
		t.Logf("%s (acknowledged to the producer: %d, republished: %d)", what, producer.count(), producer.retries.Load())
	}
	inFlight := 0
	killWorkers := func() {
		for _, f := range fleets {
			if f.killOne() {
				inFlight++
			}
		}
	}

	advance("events flow")
	killWorkers()

	advance("workers killed and replaced")
	// A burst of publishes whose acknowledgements never reach the
	// producer: the leader stores them, then stops. The producer, cut
	// off, knows nothing of their outcome and must republish every one
	// to the new leader, which must recognise them by their ids.
	leader := c.WaitStreamLeader(streamName, nil, stepTimeout)
	before := lastSeq(ctx, t, js)
	if got, want := pnc.ConnectedUrl(), "nats://"+proxy.Addr(); got != want {
		t.Fatalf("the producer is connected to %s, not through the proxy at %s: the test cannot withhold its acknowledgements", got, want)
	}
	proxy.DropReplies()
	burstSent, burstDone := make(chan struct{}), make(chan error, 1)
	burst := genEvents(12, 1_000_000, 2000, 100)
	go func() { burstDone <- producer.publishChunk(ctx, burst, func() { close(burstSent) }) }()
	<-burstSent
	testenv.Eventually(t, stepTimeout, func() (bool, string) {
		last := lastSeq(ctx, t, js)
		return last >= before+uint64(len(burst)), fmt.Sprintf("last sequence %d, burst from %d", last, before)
	}, "the burst stored without its acknowledgements reaching the producer")
	retriesBefore := producer.retries.Load()
	leader.Shutdown()
	c.WaitStreamLeader(streamName, leader, stepTimeout)
	proxy.Stop()
	if err := <-burstDone; err != nil {
		t.Fatal(err)
	}
	if n := producer.retries.Load() - retriesBefore; n < int64(len(burst)) {
		t.Fatalf("the producer republished %d events after losing the burst's acknowledgements, want at least %d", n, len(burst))
	}
	if producer.duplicates.Load() == 0 {
		t.Fatal("no republished event was recognised as already stored: the new leader lost the ids of the old one's messages")
	}

	advance(fmt.Sprintf("stream leader %s stopped, a new leader elected", leader.Name()))
	killWorkers()

	advance("workers killed and replaced with a node down")
	leader.Start()
	c.WaitMetaLeader(stepTimeout)
	c.WaitCurrent(streamName, stepTimeout)

	advance(fmt.Sprintf("node %s back and caught up", leader.Name()))
	other := c.WaitStreamLeader(streamName, nil, stepTimeout)
	if other == leader {
		other = c.Nodes[(slices.Index(c.Nodes, leader)+1)%len(c.Nodes)]
	}
	other.Restart()
	c.WaitMetaLeader(stepTimeout)
	c.WaitCurrent(streamName, stepTimeout)

	advance(fmt.Sprintf("node %s restarted", other.Name()))
	killWorkers()

	advance("workers killed and replaced")
	res = stopProducer()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if inFlight == 0 {
		t.Fatal("no kill caught a worker with events in flight; the test proved nothing")
	}

	model, lastAcked, err := producer.model()
	if err != nil {
		t.Fatal(err)
	}
	published := res.n + len(burst)
	if producer.count() != published {
		t.Fatalf("the producer published %d events but holds %d acknowledgements", published, producer.count())
	}
	for _, f := range fleets {
		f.waitCommitted(stepTimeout)
		for _, w := range f.workers {
			if w.exited() {
				t.Fatalf("%s exited instead of riding out the faults: %v", w.name, w.err)
			}
			w.stop(15 * time.Second)
		}
	}
	// Nothing acknowledged was lost, nothing was stored twice, and nothing
	// was stored that the producer was not told about.
	fromStream, last := streamModel(t, js, streamName, 0)
	if last != lastAcked || last != uint64(published) {
		t.Fatalf("the stream's last sequence is %d, the producer's last acknowledged %d, of %d events", last, lastAcked, published)
	}
	if diff := diffModels(model, fromStream); len(diff) > 0 {
		t.Fatalf("the stream differs from what it acknowledged:\n%s", joinLines(diff))
	}
	for _, f := range fleets {
		assertTable(t, f.dsn, model)
		if n := f.deadLetters(); n != 0 {
			t.Fatalf("%s: %d dead letters, want none", f.consumer, n)
		}
	}
	t.Logf("%d events, %d republished after an unknown outcome, %d of them already stored; %d kills with events in flight",
		published, producer.retries.Load(), producer.duplicates.Load(), inFlight)
	if pgSkipped != nil {
		t.Skipf("SKIP (SQLite checked, PostgreSQL part not run): %v", pgSkipped)
	}
}

// declareR3 creates the event stream and its dead-letter stream with three
// replicas, as the operator of a clustered production does before
// Switchyard joins.
func declareR3(ctx context.Context, t *testing.T, js jetstream.JetStream) {
	t.Helper()
	source := subscriptions.StreamSpec{Name: streamName, Subjects: []string{events.SubjectFilter("")}, Replicas: 3}
	for _, spec := range []subscriptions.StreamSpec{source, subscriptions.DLQSpec(source)} {
		st, err := subscriptions.EnsureStream(ctx, js, spec)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Fatalf("stream %s: %d replicas configured, cluster %+v; want R3", spec.Name, info.Config.Replicas, info.Cluster)
		}
	}
}

// assertConsumerR3 checks that consumer is replicated on three nodes (a
// consumer inherits its stream's replicas).
func assertConsumerR3(ctx context.Context, t *testing.T, js jetstream.JetStream, consumer string) {
	t.Helper()
	cons, err := js.Consumer(ctx, streamName, consumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("consumer %s: cluster %+v; want a leader and two replicas", consumer, info.Cluster)
	}
}

// diffModels lists the rows in which two models differ.
func diffModels(want, got map[string]modelRow) []string {
	var out []string
	for key, w := range want {
		g, ok := got[key]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: missing (want version %d)", key, w.Version))
		case g.Version != w.Version || g.Deleted != w.Deleted || g.Client != w.Client || (!w.Deleted && !sameJSON(g.Data, w.Data)):
			out = append(out, fmt.Sprintf("%s: version %d deleted=%v, want version %d deleted=%v", key, g.Version, g.Deleted, w.Version, w.Deleted))
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			out = append(out, key+": never acknowledged")
		}
	}
	return out
}

// lastSeq is the stream's last sequence, as its leader answers.
func lastSeq(ctx context.Context, t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(ctx, streamName)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.LastSeq
}
