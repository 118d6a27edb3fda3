package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
)

// runCmd runs the binary's entry point in process and returns its exit code
// and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const goodEvent = `{"id":"e%d","type":"task.created","entity":"tasks","key":"k%d","client":"acme","op":"upsert","occurred_at":"2026-01-02T03:04:05Z","data":{"n":%d}}`

func eventLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(strings.ReplaceAll(goodEvent, "%d", strconv.Itoa(i)))
		b.WriteByte('\n')
	}
	return b.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSubsEnsureInspectListDelete(t *testing.T) {
	srv := testenv.NATS(t)
	code, out, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--role", "target",
		"--start", "new", "--ack-wait", "10s", "--backoff", "1s,5s", "--max-ack-pending", "300", "--json")
	if code != 0 {
		t.Fatalf("ensure: exit %d: %s", code, errOut)
	}
	var printed struct {
		Stream      subscriptions.StreamReport `json:"stream"`
		DeadLetters subscriptions.StreamReport `json:"dead_letter_stream"`
		Consumer    subscriptions.Status       `json:"consumer"`
	}
	st := &printed.Consumer
	if err := json.Unmarshal([]byte(out), &printed); err != nil || st.Consumer != "target" || st.StartSeq != 1 || st.Role != "target" ||
		!printed.Stream.Created || !printed.DeadLetters.Created {
		t.Fatalf("ensure printed %s (%v)", out, err)
	}
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, "EVENTS", "target")
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.CachedInfo().Config
	if cfg.MaxAckPending != 300 || len(cfg.BackOff) != 2 || cfg.Metadata[subscriptions.MetaVersionSource] != "stream" {
		t.Fatalf("consumer config %+v", cfg)
	}
	if _, err := js.Stream(ctx, "EVENTS_DLQ"); err != nil {
		t.Fatalf("dead-letter stream: %v", err)
	}

	if code, out, errOut = runCmd(t, "subs", "list", "--nats", srv.URL); code != 0 || !strings.Contains(out, "target") || !strings.Contains(out, "ACK FLOOR") {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	if code, out, _ = runCmd(t, "subs", "inspect", "--nats", srv.URL, "--consumer", "target"); code != 0 || !strings.Contains(out, "target") {
		t.Fatalf("inspect: %d %s", code, out)
	}
	if code, _, errOut = runCmd(t, "subs", "inspect", "--nats", srv.URL, "--consumer", "nobody"); code != 3 || !strings.Contains(errOut, "not found") {
		t.Fatalf("inspect a missing consumer: %d %s", code, errOut)
	}

	code, _, errOut = runCmd(t, "subs", "delete", "--nats", srv.URL, "--consumer", "target")
	if code != 2 || !strings.Contains(errOut, "--confirm=target") {
		t.Fatalf("delete without confirm: %d %s", code, errOut)
	}
	if code, _, _ = runCmd(t, "subs", "delete", "--nats", srv.URL, "--consumer", "target", "--confirm", "legacy"); code != 2 {
		t.Fatalf("delete with the wrong confirm: exit %d", code)
	}
	if _, err := js.Consumer(ctx, "EVENTS", "target"); err != nil {
		t.Fatalf("the consumer was deleted without confirmation: %v", err)
	}
	if code, _, errOut = runCmd(t, "subs", "delete", "--nats", srv.URL, "--consumer", "target", "--confirm=target"); code != 0 {
		t.Fatalf("delete: %d %s", code, errOut)
	}
	if _, err := js.Consumer(ctx, "EVENTS", "target"); err == nil {
		t.Fatal("consumer still there after delete")
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := [][]string{
		{"subs"},
		{"subs", "frobnicate"},
		{"subs", "inspect"},
		{"subs", "ensure", "--consumer", "c", "--start", "yesterday"},
		{"subs", "ensure", "--consumer", "c", "--version-source", "wall-clock"},
		{"subs", "ensure", "--consumer", "c", "--backoff", "soon"},
		{"subs", "ensure", "--consumer", "c", "--backoff", "1s,2s", "--max-deliver", "2"},
		{"subs", "ensure", "--consumer", "c", "--max-deliver", "0"},
		{"subs", "ensure", "--consumer", "c", "--role", "primary"},
		{"subs", "ensure", "--consumer", "c", "--filter", "other.>"},
		{"subs", "ensure", "--consumer", "c", "--ack-wait", "forever"},
		{"subs", "ensure", "--consumer", "c", "--replicas", "0"},
		{"subs", "ensure", "--consumer", "c", "--update-stream", "storage"},
		{"subs", "ensure", "--consumer", "c", "--max-msgs", "-5"},
		{"flags", "init", "--replicas", "7"},
		{"status", "--connect-timeout", "0s"},
		{"subs", "list", "extra"},
		{"dlq"},
		{"dlq", "list"},
		{"dlq", "show", "--consumer", "c"},
		{"dlq", "purge", "--consumer", "c"},
		{"dlq", "replay", "--consumer", "c"},
		{"dlq", "replay", "--consumer", "c", "--sink", "nodsn"},
		{"dlq", "replay", "--consumer", "c", "--sink", "sqlite:x.db", "--version-source", "both"},
		{"dlq", "replay", "--consumer", "c", "--sink", "sqlite:x.db", "--max-event-bytes", "0"},
		{"publish", "--prefix", "events.*"},
		{"publish", "--chunk", "0"},
		{"publish", "--file", "/does/not/exist.jsonl"},
	}
	for _, args := range cases {
		code, _, errOut := runCmd(t, args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 2 || len(lines) != 1 || lines[0] == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, code, errOut)
		}
	}
}

func TestPublish(t *testing.T) {
	srv := testenv.NATS(t)
	if code, _, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target"); code != 0 {
		t.Fatalf("ensure: %s", errOut)
	}
	content := eventLines(0, 3) + "\n" + `{"id":"bad1","entity":"tasks"}` + "\n" + "not json\n" + eventLines(3, 5)
	file := writeFile(t, content)

	code, out, errOut := runCmd(t, "publish", "--nats", srv.URL, "--file", file, "--dry-run")
	if code != 1 || !strings.Contains(out, "5 events valid") {
		t.Fatalf("dry run: %d %q %q", code, out, errOut)
	}
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := stream.Info(ctx); info.State.Msgs != 0 {
		t.Fatalf("dry run published %d events", info.State.Msgs)
	}

	code, out, errOut = runCmd(t, "publish", "--nats", srv.URL, "--file", file, "--chunk", "2")
	if code != 1 {
		t.Fatalf("publish with bad lines: exit %d", code)
	}
	if !strings.Contains(errOut, "line 5: invalid event: field") || !strings.Contains(errOut, "line 6: invalid event: not JSON") {
		t.Fatalf("bad lines not reported by number: %q", errOut)
	}
	if !strings.Contains(out, "5 events published, 2 invalid lines, 7 lines read") {
		t.Fatalf("summary: %q", out)
	}
	if info, _ := stream.Info(ctx); info.State.Msgs != 5 {
		t.Fatalf("stream holds %d events, want 5", info.State.Msgs)
	}
	msg, err := stream.GetMsg(ctx, 1)
	if err != nil || msg.Header.Get(jetstream.MsgIDHeader) != "e0" || msg.Subject != "events.tasks.upsert" {
		t.Fatalf("first message: %+v %v", msg, err)
	}

	// Publishing again is deduplicated by id.
	if code, _, errOut = runCmd(t, "publish", "--nats", srv.URL, "--file", writeFile(t, eventLines(0, 5))); code != 0 {
		t.Fatalf("republish: %s", errOut)
	}
	if info, _ := stream.Info(ctx); info.State.Msgs != 5 {
		t.Fatalf("republish stored duplicates: %d events", info.State.Msgs)
	}

	// A line above the size limit is reported, not read into memory whole.
	long := strings.Replace(eventLines(9, 10), `{"n":9}`, `{"n":"`+strings.Repeat("x", 2000)+`"}`, 1)
	code, _, errOut = runCmd(t, "publish", "--nats", srv.URL, "--max-event-bytes", "1000", "--file", writeFile(t, eventLines(7, 8)+long+eventLines(8, 9)))
	if code != 1 || !strings.Contains(errOut, "line 2: invalid event: line is longer") {
		t.Fatalf("long line: %d %q", code, errOut)
	}
	if info, _ := stream.Info(ctx); info.State.Msgs != 7 {
		t.Fatalf("stream holds %d events, want 7", info.State.Msgs)
	}
}

func TestPublishWithoutStream(t *testing.T) {
	srv := testenv.NATS(t)
	code, _, errOut := runCmd(t, "publish", "--nats", srv.URL, "--file", writeFile(t, eventLines(0, 1)))
	if code != 3 || !strings.Contains(errOut, "subs ensure") {
		t.Fatalf("publish without a stream: %d %q", code, errOut)
	}
}

func TestDLQListShowPurge(t *testing.T) {
	srv := testenv.NATS(t)
	if code, _, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target"); code != 0 {
		t.Fatalf("ensure: %s", errOut)
	}
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := nats.NewMsg(subscriptions.DLQSubject("EVENTS", "target"))
	msg.Data = []byte(`{"id":`)
	msg.Header.Set(subscriptions.HeaderReason, "invalid event: not JSON: unexpected end of input")
	msg.Header.Set(subscriptions.HeaderReasonKind, "decode")
	msg.Header.Set(subscriptions.HeaderOriginalSubject, "events.tasks.upsert")
	msg.Header.Set(subscriptions.HeaderOriginalSequence, "42")
	ack, err := js.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "dlq", "list", "--nats", srv.URL, "--consumer", "target")
	if code != 0 || !strings.Contains(out, "decode") || !strings.Contains(out, "42") || !strings.Contains(out, "unexpected end of input") {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCmd(t, "dlq", "list", "--nats", srv.URL, "--consumer", "target", "--json")
	var list []subscriptions.DeadLetter
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].OriginalSeq != 42 {
		t.Fatalf("list --json: %d %q", code, out)
	}
	code, out, _ = runCmd(t, "dlq", "show", "--nats", srv.URL, "--consumer", "target", "--seq", strconv.FormatUint(ack.Sequence, 10))
	if code != 0 || !strings.Contains(out, "Switchyard-Reason-Kind: decode") || !strings.Contains(out, `{"id":`) {
		t.Fatalf("show: %d %q", code, out)
	}
	if code, _, errOut = runCmd(t, "dlq", "show", "--nats", srv.URL, "--consumer", "target", "--seq", "99"); code != 3 || !strings.Contains(errOut, "not found") {
		t.Fatalf("show a missing dead letter: %d %q", code, errOut)
	}
	if code, _, _ = runCmd(t, "dlq", "purge", "--nats", srv.URL, "--consumer", "target", "--confirm=legacy"); code != 2 {
		t.Fatalf("purge with the wrong confirm: exit %d", code)
	}
	if code, out, _ = runCmd(t, "dlq", "purge", "--nats", srv.URL, "--consumer", "target", "--confirm=target"); code != 0 || !strings.Contains(out, "purged 1") {
		t.Fatalf("purge: %d %q", code, out)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 0 {
		t.Fatalf("depth after purge: %d", d)
	}
}

func TestDLQReplay(t *testing.T) {
	srv := testenv.NATS(t)
	if code, _, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--version-source", "stream"); code != 0 {
		t.Fatalf("ensure: %s", errOut)
	}
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	letter := func(payload string, origSeq int) {
		msg := nats.NewMsg(subscriptions.DLQSubject("EVENTS", "target"))
		msg.Data = []byte(payload)
		msg.Header.Set(subscriptions.HeaderReasonKind, "too-large")
		msg.Header.Set(subscriptions.HeaderOriginalSubject, "events.tasks.upsert")
		msg.Header.Set(subscriptions.HeaderOriginalSequence, strconv.Itoa(origSeq))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	letter(strings.ReplaceAll(goodEvent, "%d", "7"), 70)
	letter(`{"id":`, 71)
	sink := "sqlite:" + filepath.Join(t.TempDir(), "target.db")

	code, out, errOut := runCmd(t, "dlq", "replay", "--nats", srv.URL, "--consumer", "target", "--all", "--sink", sink, "--version-source", "producer")
	if code != 2 || !strings.Contains(errOut, "contradicts") {
		t.Fatalf("replay with a contradicting version source: %d %q", code, errOut)
	}
	// Neither --seq nor --all, --seq 0, both, an unknown sequence and an
	// unknown consumer: clear errors, nothing replayed.
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--consumer", "target"}, "--all"},
		{[]string{"--consumer", "target", "--seq", "0"}, "--seq 0"},
		{[]string{"--consumer", "target", "--seq", "1", "--all"}, "not both"},
		{[]string{"--consumer", "target", "--seq", "999"}, "dead letter 999"},
		{[]string{"--consumer", "nosuch", "--all"}, "consumer nosuch"},
	} {
		args := append([]string{"dlq", "replay", "--nats", srv.URL, "--sink", sink, "--version-source", "stream"}, bad.args...)
		code, out, errOut := runCmd(t, args...)
		if code != 2 || !strings.Contains(errOut, bad.want) || strings.Contains(out, "replayed") {
			t.Errorf("%v: exit %d, out %q, err %q; want exit 2 naming %q and no \"replayed\"", bad.args, code, out, errOut, bad.want)
		}
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 2 {
		t.Fatalf("depth %d after refused replays, want 2", d)
	}
	code, out, errOut = runCmd(t, "dlq", "replay", "--nats", srv.URL, "--consumer", "target", "--all", "--sink", sink)
	if code != 1 || !strings.Contains(out, "replayed 1 dead letters") || !strings.Contains(out, "1 applied") || !strings.Contains(out, "kept 2: invalid event") {
		t.Fatalf("replay: %d %q %q", code, out, errOut)
	}
	if d, _ := subscriptions.DeadLetterDepth(ctx, js, "EVENTS", "target"); d != 1 {
		t.Fatalf("depth after replay %d, want the broken one kept", d)
	}
	st, err := all.Open(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Get(ctx, "tasks", "k7")
	if err != nil || rec.Version != 70 {
		t.Fatalf("replayed row: %+v, %v; want version 70 (the original sequence)", rec, err)
	}
}
