package pipelinetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
)

const workerMaxEventBytes = 4096

// poisonCase is one bad message and what its dead letter must say.
type poisonCase struct {
	name    string
	subject string
	payload string
	kind    string
	reason  string // a fragment of the reason
}

func bigUpsert(id, key string) string {
	return fmt.Sprintf(`{"id":%q,"type":"task.saved","entity":"tasks","key":%q,"client":"client-1","op":"upsert","occurred_at":"2026-01-01T00:00:00Z","data":{"title":"big","blob":%q}}`,
		id, key, strings.Repeat("x", workerMaxEventBytes))
}

func poisonCases() []poisonCase {
	const head = `"type":"task.saved","client":"client-1","occurred_at":"2026-01-01T00:00:00Z"`
	return []poisonCase{
		{"malformed JSON", "events.tasks.upsert", `{"id":"p-json","entity":"tasks",`, "decode", "not JSON"},
		{"missing key", "events.tasks.upsert", `{"id":"p-key","entity":"tasks","op":"upsert",` + head + `,"data":{}}`, "invalid", `field "key": is required`},
		{"unknown op", "events.tasks.merge", `{"id":"p-op","entity":"tasks","key":"k001","op":"merge",` + head + `,"data":{}}`, "invalid", `field "op": "merge" is not one of upsert, delete`},
		{"data not an object", "events.tasks.upsert", `{"id":"p-data","entity":"tasks","key":"k002","op":"upsert",` + head + `,"data":[1,2]}`, "invalid", `field "data": must be a JSON object`},
		{"invalid entity", "events.Tasks-X.upsert", `{"id":"p-entity","entity":"Tasks-X","key":"k003","op":"upsert",` + head + `,"data":{}}`, "invalid", `field "entity"`},
		{"version under stream versions", "events.tasks.upsert", `{"id":"p-version","entity":"tasks","key":"k004","op":"upsert","version":7,` + head + `,"data":{}}`, "version", `field "version": must be absent`},
		{"oversized, key untouched later", "events.tasks.upsert", bigUpsert("p-big-new", "big-new"), "too-large", fmt.Sprintf("above the limit of %d", workerMaxEventBytes)},
		{"oversized, key updated later", "events.tasks.upsert", bigUpsert("p-big-stale", "k005"), "too-large", fmt.Sprintf("above the limit of %d", workerMaxEventBytes)},
	}
}

// TestPoison feeds every kind of bad event between good ones. The bad ones
// must reach the dead-letter stream with their reasons while the good ones
// are applied. After the fix (a higher size limit) a replay applies the
// oversized events, except that the one older than its row changes nothing;
// the events that are still wrong stay in the dead-letter stream.
func TestPoison(t *testing.T) {
	t.Parallel()
	forEachSink(t, func(t *testing.T, dsn string) {
		p := newPipeline(t, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		w := p.startWorker("worker", dsn, "--max-event-bytes", fmt.Sprint(workerMaxEventBytes))

		if err := p.publish(ctx, genEvents(4, 0, 200, 20), 50); err != nil {
			t.Fatal(err)
		}
		cases := poisonCases()
		for _, pc := range cases {
			msg := nats.NewMsg(pc.subject)
			msg.Data = []byte(pc.payload)
			if _, err := p.js.PublishMsg(ctx, msg); err != nil {
				t.Fatalf("%s: %v", pc.name, err)
			}
		}
		// Newer state for k005 after its oversized (dead-lettered) event.
		if err := p.publish(ctx, genEvents(4, 200, 200, 20), 50); err != nil {
			t.Fatal(err)
		}
		later := genEvents(6, 1000, 1, 1)
		later[0].Key = "k005"
		if err := p.publish(ctx, later, 1); err != nil {
			t.Fatal(err)
		}

		p.waitCommitted(30 * time.Second)
		if n := p.deadLetters(); n != uint64(len(cases)) {
			t.Fatalf("%d dead letters, want %d", n, len(cases))
		}
		letters, err := subscriptions.ListDeadLetters(ctx, p.js, streamName, consumerName, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		byMsgID := map[string]subscriptions.DeadLetter{}
		for _, dl := range letters {
			byMsgID[string(dl.Payload)] = dl
		}
		for _, pc := range cases {
			dl, ok := byMsgID[pc.payload]
			if !ok {
				t.Errorf("%s: not dead-lettered", pc.name)
				continue
			}
			if dl.Kind != pc.kind || !strings.Contains(dl.Reason, pc.reason) || dl.OriginalSubject != pc.subject || dl.OriginalSeq == 0 || dl.Deliveries == 0 {
				t.Errorf("%s: dead letter kind %q reason %q subject %q seq %d deliveries %d; want kind %q, reason containing %q",
					pc.name, dl.Kind, dl.Reason, dl.OriginalSubject, dl.OriginalSeq, dl.Deliveries, pc.kind, pc.reason)
			}
		}
		model, _ := streamModel(t, p.js, streamName, workerMaxEventBytes)
		assertTable(t, dsn, model)
		w.stop(15 * time.Second)
		staleRow := readRow(t, dsn, "k005")

		// The fix: a higher size limit. Replay everything.
		code, out := runOnce(t, "dlq", "replay", "--nats", p.srv.URL, "--consumer", consumerName, "--all", "--sink", dsn,
			"--max-event-bytes", "65536")
		if code != 1 {
			t.Fatalf("replay exited %d, want 1 (six dead letters are still invalid):\n%s", code, out)
		}
		if !strings.Contains(out, "replayed 2 dead letters") || !strings.Contains(out, "1 applied, 1 older than the stored row") {
			t.Fatalf("replay output:\n%s", out)
		}
		if n := p.deadLetters(); n != uint64(len(cases)-2) {
			t.Fatalf("%d dead letters after the replay, want %d", n, len(cases)-2)
		}
		kept, err := subscriptions.ListDeadLetters(ctx, p.js, streamName, consumerName, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var keptKinds []string
		for _, dl := range kept {
			keptKinds = append(keptKinds, dl.Kind)
		}
		sort.Strings(keptKinds)
		if strings.Join(keptKinds, ",") != "decode,invalid,invalid,invalid,invalid,version" {
			t.Fatalf("kept dead letters %v", keptKinds)
		}

		bigNew := readRow(t, dsn, "big-new")
		if bigNew.Deleted || bigNew.Version != int64(byMsgID[bigUpsert("p-big-new", "big-new")].OriginalSeq) {
			t.Fatalf("replayed row big-new: version %d, want its original sequence %d", bigNew.Version, byMsgID[bigUpsert("p-big-new", "big-new")].OriginalSeq)
		}
		if got := readRow(t, dsn, "k005"); got.Version != staleRow.Version || !sameJSON(got.Data, staleRow.Data) {
			t.Fatalf("replaying an older event changed k005: version %d -> %d", staleRow.Version, got.Version)
		}
		// With the new limit, the table is the model of the whole stream.
		model, _ = streamModel(t, p.js, streamName, 65536)
		assertTable(t, dsn, model)
	})
}

func readRow(t *testing.T, dsn, key string) stores.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := all.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.Get(ctx, entity, key)
	if errors.Is(err, stores.ErrNotFound) {
		t.Fatalf("row %s: not found", key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}
