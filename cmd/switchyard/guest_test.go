package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/stores/all"
)

// runWorkerUntilConsumer runs the worker command in process until its
// consumer exists (then stops it) or the command returns.
func runWorkerUntilConsumer(t *testing.T, js jetstream.JetStream, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runWorker(ctx, args, io.Discard, io.Discard) }()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-done:
			return err
		case <-deadline:
			t.Fatal("the worker neither created its consumer nor failed within 20 s")
		case <-time.After(50 * time.Millisecond):
		}
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.Consumer(cctx, "EVENTS", "target")
		ccancel()
		if err == nil {
			cancel()
			return <-done
		}
	}
}

func TestEnsureLeavesTheApplicationsStreamAlone(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	before := testenv.ApplicationStream(t, js, nil)

	code, out, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--role", "target", "--start", "new")
	if code != 0 {
		t.Fatalf("subs ensure: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"stream EVENTS exists and is usable", "max-age: 24h0m0s (declared forever", "max-msgs: 1000000 (declared unlimited", "stream EVENTS_DLQ created"} {
		if !strings.Contains(out, want) {
			t.Errorf("subs ensure output lacks %q:\n%s", want, out)
		}
	}
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
		t.Fatalf("subs ensure changed the application's stream:\nbefore %+v\nafter  %+v", before, after)
	}
	c, err := js.Consumer(context.Background(), "EVENTS", "target")
	if err != nil {
		t.Fatal(err)
	}
	if f := c.CachedInfo().Config; f.FilterSubject != "events.>" && !reflect.DeepEqual(f.FilterSubjects, []string{"events.>"}) {
		t.Fatalf("the consumer filters %q %q: it would receive the application's orders", f.FilterSubject, f.FilterSubjects)
	}
	if err := js.DeleteConsumer(context.Background(), "EVENTS", "target"); err != nil {
		t.Fatal(err)
	}

	sink := "sqlite:" + filepath.Join(t.TempDir(), "target.db")
	if err := runWorkerUntilConsumer(t, js, "--nats", srv.URL, "--consumer", "target", "--sink", sink, "--ensure", "--http", ""); err != nil {
		t.Fatalf("worker --ensure: %v", err)
	}
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
		t.Fatalf("worker --ensure changed the application's stream:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestEnsureRefusesAnUnusableStream(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*jetstream.StreamConfig)
		args   []string
		reason string
	}{
		{"subjects", func(c *jetstream.StreamConfig) { c.Subjects = []string{"orders.>"} }, nil, "do not capture events.>"},
		{"filter", func(c *jetstream.StreamConfig) { c.Subjects = []string{"events.tasks.*"} }, []string{"--filter", "events.users.>"}, "do not capture events.users.>"},
		{"duplicate window", func(c *jetstream.StreamConfig) { c.Duplicates = time.Minute }, []string{"--duplicate-window", "5m"}, "duplicate window 1m0s is shorter than the 5m0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := testenv.NATS(t)
			_, js := srv.Connect()
			before := testenv.ApplicationStream(t, js, c.mutate)
			args := append([]string{"subs", "ensure", "--nats", srv.URL, "--consumer", "target"}, c.args...)
			code, _, errOut := runCmd(t, args...)
			if code != cli.ExitCheckFailed || !strings.Contains(errOut, c.reason) {
				t.Fatalf("subs ensure: exit %d, %q; want %d and %q", code, errOut, cli.ExitCheckFailed, c.reason)
			}
			sink := "sqlite:" + filepath.Join(t.TempDir(), "target.db")
			wargs := append([]string{"--nats", srv.URL, "--consumer", "target", "--sink", sink, "--ensure", "--http", ""}, c.args...)
			if err := runWorkerUntilConsumer(t, js, wargs...); err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("worker --ensure: %v, want %q", err, c.reason)
			}
			if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused stream changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestEnsureUpdatesExactlyWhatItNames(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	before := testenv.ApplicationStream(t, js, func(c *jetstream.StreamConfig) { c.Duplicates = time.Minute })
	code, out, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--duplicate-window", "5m", "--max-age", "72h",
		"--update-stream", "duplicate-window")
	if code != 0 || !strings.Contains(out, "duplicate-window: 1m0s -> 5m0s (updated)") {
		t.Fatalf("subs ensure --update-stream: exit %d\n%s\n%s", code, out, errOut)
	}
	want := before
	want.Duplicates = 5 * time.Minute // and nothing else: max age was not named
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, want) {
		t.Fatalf("after --update-stream=duplicate-window:\ngot  %+v\nwant %+v", after, want)
	}
	if code, _, errOut = runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--update-stream", "retention"); code != cli.ExitUsage || !strings.Contains(errOut, "retention") {
		t.Fatalf("--update-stream=retention: exit %d %s", code, errOut)
	}
}

func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	dir := t.TempDir()
	legacy, target := "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	// The legacy store exists before Switchyard reads it (read-api opens it
	// read only and creates nothing).
	legacyStore, err := all.Open(context.Background(), legacy)
	if err != nil {
		t.Fatal(err)
	}
	legacyStore.Close()
	hash, err := console.HashPassword("operator password", console.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(consoleUsersEnv, fmt.Sprintf(`{"users":[{"name":"olivia","role":"operator","password_hash":%q}]}`, hash))

	// One-shot commands fail at once, naming what is missing and what
	// creates it.
	for _, args := range [][]string{
		{"flags", "get", "--nats", srv.URL},
		{"flags", "list", "--nats", srv.URL},
		{"flags", "audit", "--nats", srv.URL},
		{"status", "--nats", srv.URL},
	} {
		code, _, errOut := runCmd(t, args...)
		if code != cli.ExitError || !strings.Contains(errOut, "does not exist") || !strings.Contains(errOut, "creates it") && !strings.Contains(errOut, "create it") {
			t.Errorf("%v on an empty NATS: exit %d, %q; want %d naming what is missing and which command creates it", args[:2], code, errOut, cli.ExitError)
		}
	}

	// Long-running ones wait for it, saying what creates it, and start
	// serving once it exists.
	consoleAddr, readAPIAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var consoleLog, readAPILog testenv.Buffer
	consoleDone, readAPIDone := make(chan error, 1), make(chan error, 1)
	go func() {
		consoleDone <- runConsole(ctx, []string{"--nats", srv.URL, "--listen", consoleAddr, "--insecure-cookies"}, io.Discard, &consoleLog)
	}()
	access := filepath.Join(t.TempDir(), "access.json")
	if err := os.WriteFile(access, []byte(`{"callers": [{"name": "app", "token": "guest-test-token-0123456789abcdef", "clients": ["*"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		readAPIDone <- runReadAPI(ctx, []string{"--nats", srv.URL, "--listen", readAPIAddr, "--legacy", legacy, "--target", target, "--access-file", access}, io.Discard, &readAPILog)
	}()
	for name, log := range map[string]*testenv.Buffer{"console": &consoleLog, "read-api": &readAPILog} {
		testenv.Eventually(t, 10*time.Second, func() (bool, string) {
			out := log.String()
			return strings.Contains(out, "waiting for the control plane") && strings.Contains(out, "switchyard flags init"), out
		}, name+" says what it waits for")
	}
	if names := streamNames(t, js); len(names) != 0 {
		t.Fatalf("read-only commands created %v", names)
	}

	if code, out, errOut := runCmd(t, "flags", "init", "--nats", srv.URL); code != 0 || !strings.Contains(out, "control plane ready") {
		t.Fatalf("flags init: exit %d %s %s", code, out, errOut)
	}
	created := streamNames(t, js)
	for name, url := range map[string]string{"console": "http://" + consoleAddr + "/healthz", "read-api": "http://" + readAPIAddr + "/healthz"} {
		testenv.Eventually(t, 20*time.Second, func() (bool, string) {
			resp, err := http.Get(url)
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, resp.Status
		}, name+" serves once the control plane exists")
	}
	if code, _, errOut := runCmd(t, "flags", "get", "--nats", srv.URL); code != 0 {
		t.Fatalf("flags get after init: %s", errOut)
	}
	if code, _, errOut := runCmd(t, "status", "--nats", srv.URL); code != 0 {
		t.Fatalf("status after init: %s", errOut)
	}
	cancel()
	for name, done := range map[string]chan error{"console": consoleDone, "read-api": readAPIDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s after cancel: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("%s did not stop", name)
		}
	}
	if after := streamNames(t, js); !reflect.DeepEqual(after, created) {
		t.Fatalf("read-only commands changed the streams: %v, then %v", created, after)
	}
}

func TestControlPlaneKeepsAnOperatorsSettings(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// An operator made the flag bucket with a short history.
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "switchyard_flags", History: 5}); err != nil {
		t.Fatal(err)
	}
	before := testenv.StreamConfig(t, js, "KV_switchyard_flags")
	if code, _, errOut := runCmd(t, "flags", "set", "--nats", srv.URL, "--client", "c1", "--stage", "shadow", "--reason", "pilot", "--actor", "ann"); code != 0 {
		t.Fatalf("flags set: %s", errOut)
	}
	if after := testenv.StreamConfig(t, js, "KV_switchyard_flags"); !reflect.DeepEqual(after, before) {
		t.Fatalf("flags set changed the existing bucket:\nbefore %+v\nafter  %+v", before, after)
	}
}

func streamNames(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var names []string
	lister := js.StreamNames(ctx)
	for n := range lister.Name() {
		names = append(names, n)
	}
	if err := lister.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func TestEnsureLeavesAnR3StreamAlone(t *testing.T) {
	cluster := testenv.NewNATSCluster(t, 3)
	_, js := cluster.Connect()
	before := testenv.ApplicationStream(t, js, func(c *jetstream.StreamConfig) { c.Replicas = 3 })

	code, out, errOut := runCmd(t, "subs", "ensure", "--nats", cluster.URL, "--consumer", "target", "--role", "target", "--start", "new", "--replicas", "3")
	if code != 0 || !strings.Contains(out, "stream EVENTS exists and is usable") || !strings.Contains(out, "stream EVENTS_DLQ created") {
		t.Fatalf("subs ensure on R3: exit %d\n%s\n%s", code, out, errOut)
	}
	sink := "sqlite:" + filepath.Join(t.TempDir(), "target.db")
	if err := js.DeleteConsumer(context.Background(), "EVENTS", "target"); err != nil {
		t.Fatal(err)
	}
	if err := runWorkerUntilConsumer(t, js, "--nats", cluster.URL, "--consumer", "target", "--sink", sink, "--ensure", "--http", ""); err != nil {
		t.Fatalf("worker --ensure: %v", err)
	}
	// The default --replicas 1 is a difference, never a reason to scale down.
	code, out, errOut = runCmd(t, "subs", "ensure", "--nats", cluster.URL, "--consumer", "target")
	if code != 0 || !strings.Contains(out, "replicas: 3 (declared 1; left as it is") {
		t.Fatalf("subs ensure with --replicas 1: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "subs", "ensure", "--nats", cluster.URL, "--consumer", "target", "--update-stream", "replicas", "--replicas", "1")
	if code == 0 || !strings.Contains(errOut, "lowering them to 1 is never done") {
		t.Fatalf("--update-stream=replicas --replicas 1 on R3: exit %d %s", code, errOut)
	}
	if after := testenv.StreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
		t.Fatalf("the R3 stream changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if r := testenv.StreamConfig(t, js, "EVENTS_DLQ").Replicas; r != 3 {
		t.Fatalf("the dead-letter stream was created with %d replicas, want --replicas 3", r)
	}
}
