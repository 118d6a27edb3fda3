package pipelinetest

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
)

// TestSinkOutage cuts the worker off PostgreSQL through a TCP proxy while
// events keep coming. During the outage nothing may be acknowledged (the ack
// floor stays where it was although the worker keeps retrying); after it,
// everything is applied and nothing is lost or dead-lettered.
func TestSinkOutage(t *testing.T) {
	t.Parallel()
	direct := testenv.Postgres(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	proxied := *u
	proxied.Host = proxy.Addr()

	p := newPipeline(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := p.startWorker("worker", proxied.String())

	if err := p.publish(ctx, genEvents(3, 0, 1000, 100), 100); err != nil {
		t.Fatal(err)
	}
	before := p.waitCommitted(30 * time.Second)

	proxy.Stop()
	if err := p.publish(ctx, genEvents(3, 1000, 1000, 100), 100); err != nil {
		t.Fatal(err)
	}
	// The worker pulls, fails to commit, negatively acknowledges and gets
	// the same events again: wait for redeliveries, checking at every look
	// that the ack floor has not moved.
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		st, err := p.status()
		if err != nil {
			return false, err.Error()
		}
		if st.AckFloor != before.AckFloor {
			t.Fatalf("ack floor moved from %d to %d while the database was unreachable", before.AckFloor, st.AckFloor)
		}
		return st.Redelivered > 0 && st.Delivered > before.AckFloor,
			fmt.Sprintf("delivered %d, redelivered %d, ack floor %d", st.Delivered, st.Redelivered, st.AckFloor)
	}, "the worker retrying during the outage")
	if w.exited() {
		t.Fatalf("the worker exited during the outage: %v", w.err)
	}

	proxy.Start()
	p.waitCommitted(45 * time.Second)
	w.stop(15 * time.Second)
	model, last := streamModel(t, p.js, streamName, 0)
	if last != 2000 {
		t.Fatalf("stream holds %d events, want 2000", last)
	}
	assertTable(t, direct, model)
	if n := p.deadLetters(); n != 0 {
		t.Fatalf("%d dead letters after an outage, want none: an outage is not poison", n)
	}
}
