package workers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

const okEnvelope = `"type":"task.saved","client":"acme","occurred_at":"2026-01-02T03:04:05Z"`

func TestPoisonGoesToTheDeadLetterStreamAndTheRestIsApplied(t *testing.T) {
	e := newEnv(t)
	good := func(n int) (string, []byte) {
		return "events.tasks.upsert", fmt.Appendf(nil, `{"id":"good-%d","entity":"tasks","key":"g%d","op":"upsert",%s,"data":{"n":%d}}`, n, n, okEnvelope, n)
	}
	type poison struct {
		name, subject, kind string
		data                []byte
	}
	poisons := []poison{
		{"malformed JSON", "events.tasks.upsert", workers.KindDecode, []byte(`{"id":"p1","entity":`)},
		{"missing key", "events.tasks.upsert", workers.KindInvalid,
			fmt.Appendf(nil, `{"id":"p2","entity":"tasks","op":"upsert",%s,"data":{}}`, okEnvelope)},
		{"unknown op", "events.tasks.merge", workers.KindInvalid,
			fmt.Appendf(nil, `{"id":"p3","entity":"tasks","key":"x","op":"merge",%s,"data":{}}`, okEnvelope)},
		{"data not an object", "events.tasks.upsert", workers.KindInvalid,
			fmt.Appendf(nil, `{"id":"p4","entity":"tasks","key":"x","op":"upsert",%s,"data":[1,2]}`, okEnvelope)},
		{"oversize payload", "events.tasks.upsert", workers.KindTooLarge,
			fmt.Appendf(nil, `{"id":"p5","entity":"tasks","key":"x","op":"upsert",%s,"data":{"pad":"%s"}}`, okEnvelope, strings.Repeat("x", 3000))},
		{"invalid entity", "events.Tasks-1.upsert", workers.KindInvalid,
			fmt.Appendf(nil, `{"id":"p6","entity":"Tasks-1","key":"x","op":"upsert",%s,"data":{}}`, okEnvelope)},
		{"version under stream versions", "events.tasks.upsert", workers.KindVersion,
			fmt.Appendf(nil, `{"id":"p7","entity":"tasks","key":"x","op":"upsert","version":9,%s,"data":{}}`, okEnvelope)},
		{"wrong subject", "events.tasks.delete", workers.KindInvalid,
			fmt.Appendf(nil, `{"id":"p8","entity":"tasks","key":"x","op":"upsert",%s,"data":{}}`, okEnvelope)},
		{"store reject", "events.tasks.upsert", workers.KindRejected,
			fmt.Appendf(nil, `{"id":"p9","entity":"tasks","key":"reject-me","op":"upsert",%s,"data":{}}`, okEnvelope)},
	}
	wantKind := map[uint64]poison{}
	payload := map[uint64][]byte{}
	seq := uint64(0)
	goodCount := 0
	publish := func(subject string, data []byte, hdr map[string]string) {
		msg := nats.NewMsg(subject)
		msg.Data = data
		for k, v := range hdr {
			msg.Header.Set(k, v)
		}
		if _, err := e.js.PublishMsg(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		seq++
		payload[seq] = data
	}
	for i, p := range poisons {
		subject, data := good(i)
		publish(subject, data, nil)
		goodCount++
		publish(p.subject, p.data, map[string]string{"Nats-Msg-Id": "orig-" + p.name, "X-Trace": "trace-" + strconv.Itoa(i)})
		wantKind[seq] = p
	}
	subject, data := good(len(poisons))
	publish(subject, data, nil)
	goodCount++

	sink := newFaultStore(t)
	sink.rejectKey = "reject-me"
	cfg := testConfig()
	cfg.MaxEventBytes = 2048
	reg := prometheus.NewRegistry()
	w := e.worker(sink, cfg, workers.WithRegisterer(reg))
	e.run(w)
	e.waitAcked(seq)

	if n := sink.count("tasks"); n != goodCount {
		t.Fatalf("store holds %d rows, want the %d good events", n, goodCount)
	}
	if _, ok := sink.get("tasks", "reject-me"); ok {
		t.Fatal("the rejected write was stored")
	}
	dlq, err := e.js.Stream(context.Background(), subscriptions.DLQStreamName(testStream))
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(len(poisons)) {
		t.Fatalf("dead-letter stream holds %d messages, want %d", info.State.Msgs, len(poisons))
	}
	seen := map[uint64]bool{}
	for dseq := info.State.FirstSeq; dseq <= info.State.LastSeq; dseq++ {
		m, err := dlq.GetMsg(context.Background(), dseq)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header
		orig, err := strconv.ParseUint(h.Get(subscriptions.HeaderOriginalSequence), 10, 64)
		if err != nil {
			t.Fatalf("dead letter %d: original sequence header %q", dseq, h.Get(subscriptions.HeaderOriginalSequence))
		}
		p, ok := wantKind[orig]
		if !ok {
			t.Fatalf("dead letter for stream sequence %d, which was a good event", orig)
		}
		seen[orig] = true
		checks := map[string]string{
			subscriptions.HeaderReasonKind:      p.kind,
			subscriptions.HeaderOriginalSubject: p.subject,
			subscriptions.HeaderDeliveryCount:   "1",
			subscriptions.HeaderStream:          testStream,
			subscriptions.HeaderConsumer:        testConsumer,
			subscriptions.HeaderOriginalMsgID:   "orig-" + p.name,
			"Nats-Msg-Id":                       testConsumer + ":" + strconv.FormatUint(orig, 10),
		}
		for name, want := range checks {
			if got := h.Get(name); got != want {
				t.Errorf("%s: header %s = %q, want %q", p.name, name, got, want)
			}
		}
		if !strings.HasPrefix(h.Get("X-Trace"), "trace-") {
			t.Errorf("%s: original header X-Trace lost", p.name)
		}
		if h.Get(subscriptions.HeaderReason) == "" || h.Get(subscriptions.HeaderFailedAt) == "" {
			t.Errorf("%s: reason or failed-at header missing: %v", p.name, h)
		}
		if string(m.Data) != string(payload[orig]) {
			t.Errorf("%s: payload changed in the dead letter", p.name)
		}
		if m.Subject != subscriptions.DLQSubject(testStream, testConsumer) {
			t.Errorf("%s: dead letter on %q", p.name, m.Subject)
		}
	}
	for s, p := range wantKind {
		if !seen[s] {
			t.Errorf("%s (stream sequence %d) is not in the dead-letter stream", p.name, s)
		}
	}

	st := w.Stats()
	if st.DeadLettered != uint64(len(poisons)) || st.Applied != uint64(goodCount) {
		t.Fatalf("stats %+v: want %d dead-lettered and %d applied", st, len(poisons), goodCount)
	}
	kinds := map[string]float64{}
	for _, p := range poisons {
		kinds[p.kind]++
	}
	for kind, want := range kinds {
		if got := metricValue(t, reg, "switchyard_events_dead_lettered_total", map[string]string{"subscription": testConsumer, "kind": kind}); got != want {
			t.Errorf("switchyard_events_dead_lettered_total{kind=%q} = %v, want %v", kind, got, want)
		}
	}
	if got := metricValue(t, reg, "switchyard_events_applied_total", map[string]string{"subscription": testConsumer}); got != float64(goodCount) {
		t.Errorf("switchyard_events_applied_total = %v, want %d", got, goodCount)
	}
}

func TestDeadLetterStreamMissingRequeuesPoison(t *testing.T) {
	e := newEnv(t)
	if err := e.js.DeleteStream(context.Background(), subscriptions.DLQStreamName(testStream)); err != nil {
		t.Fatal(err)
	}
	e.publishRaw("events.tasks.upsert", []byte(`not json`))
	sink := newFaultStore(t)
	cfg := testConfig()
	cfg.DeadLetterTimeout = 200 * time.Millisecond
	w := e.worker(sink, cfg)
	e.run(w)
	waitFor(t, func() (bool, string) {
		info := e.consumerInfo()
		return info.NumRedelivered > 0 || info.Delivered.Consumer > 1, fmt.Sprintf("%+v", info.Delivered)
	})
	if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
		t.Fatalf("a poison message that could not be dead-lettered was acked or terminated (ack floor %d)", info.AckFloor.Stream)
	}
	// Once the dead-letter stream exists, the message goes there.
	if _, err := subscriptions.EnsureDLQ(context.Background(), e.js, testStream); err != nil {
		t.Fatal(err)
	}
	e.waitAcked(1)
	if st := w.Stats(); st.DeadLettered != 1 {
		t.Fatalf("stats %+v: want 1 dead-lettered", st)
	}
}
