package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
	"github.com/switchyard/switchyard/subscriptions"
)

func TestPreflightCommand(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	if _, err := subscriptions.EnsureStream(context.Background(), js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}, Memory: true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	source, target := "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	legacy, err := all.Open(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Apply(context.Background(), []stores.Write{{Entity: "task", Key: "t-1", Client: "acme", Version: 1, Data: []byte(`{"title":"x"}`)}}); err != nil {
		t.Fatal(err)
	}
	legacy.Close()

	code, out, errOut := runCmd(t, "preflight", "--nats", srv.URL, "--consumer", "legacy,target", "--source", source, "--target", target)
	if code != 0 {
		t.Fatalf("clean setup: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"STATUS", "consumer", "sample_keys", "selftest_checksum", "preflight passed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("table lacks %q:\n%s", want, out)
		}
	}

	// A failure: exit 1, the reason in the table and on stderr.
	code, out, errOut = runCmd(t, "preflight", "--nats", srv.URL, "--stream", "NOPE", "--target", target)
	if code != 1 || !strings.Contains(out, "no stream named NOPE") || !strings.Contains(errOut, "checks failed") {
		t.Fatalf("missing stream: exit %d\n%s%s", code, out, errOut)
	}

	// --json: stable snake_case keys, passwords redacted.
	code, out, _ = runCmd(t, "preflight", "--nats", "", "--json", "--target", "postgres://app:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	if code != 1 || strings.Contains(out, "hunter2") {
		t.Fatalf("unreachable target with a password: exit %d\n%s", code, out)
	}
	var rep struct {
		Passed   *bool `json:"passed"`
		Failures *int  `json:"failures"`
		Warnings *int  `json:"warnings"`
		Results  []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Passed == nil || *rep.Passed || rep.Failures == nil || *rep.Failures != 1 || rep.Warnings == nil {
		t.Fatalf("--json output %s (%v)", out, err)
	}
	for _, key := range []string{"check", "store", "role", "status", "detail"} {
		if _, ok := rep.Results[0][key]; !ok {
			t.Fatalf("result lacks %q: %v", key, rep.Results[0])
		}
	}
	if rep.Results[0]["store"] != "postgres://app:xxxxx@127.0.0.1:1/db?sslmode=disable&connect_timeout=1" {
		t.Fatalf("store = %v", rep.Results[0]["store"])
	}

	for _, args := range [][]string{
		{"preflight", "--nats", ""},
		{"preflight", "--nats", "", "--source", "legacy.db"},
		{"preflight", "--nats", "", "--target", "nosuch://x"},
		{"preflight", "--sample", "0", "--target", target},
		{"preflight", "--nats", "", "--target", target, "extra"},
		{"preflight", "--nats", "", "--source", source, "--entities", "Bad"},
	} {
		if code, _, errOut := runCmd(t, args...); code != 2 {
			t.Errorf("%q: exit %d (%s), want 2", args, code, errOut)
		}
	}
	if code, out, _ := runCmd(t, "preflight", "--help"); code != 0 || !strings.Contains(out, "Usage: switchyard preflight") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
}

// TestWorkerRefusesReadOnlySink: a worker whose sink credentials may only
// read refuses to start, naming the failing check, instead of failing every
// batch.
func TestWorkerRefusesReadOnlySink(t *testing.T) {
	srv := testenv.NATS(t)
	sink := testenv.PostgresReadOnly(t, testenv.Postgres(t))
	type result struct {
		code   int
		errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, _, errOut := runCmd(t, "worker", "--nats", srv.URL, "--consumer", "target", "--ensure", "--http", "", "--sink", sink)
		done <- result{code, errOut}
	}()
	var code int
	var errOut string
	select {
	case r := <-done:
		code, errOut = r.code, r.errOut
	case <-time.After(time.Minute):
		t.Fatal("the worker started on a sink its credentials may only read")
	}
	if code != 1 || !strings.Contains(errOut, "target store") || !strings.Contains(errOut, "permissions: ") || !strings.Contains(errOut, "lacks CREATE on schema") {
		t.Fatalf("worker on a read-only sink: exit %d\n%s", code, errOut)
	}
}
