package main

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/testenv"
)

// applicationStream is a stream the application made before Switchyard
// came: two subject trees, its own limits and duplicate window.
func applicationStream(t *testing.T, js jetstream.JetStream, mutate func(*jetstream.StreamConfig)) jetstream.StreamConfig {
	t.Helper()
	cfg := jetstream.StreamConfig{
		Name:       "EVENTS",
		Subjects:   []string{"events.>", "orders.>"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     24 * time.Hour,
		MaxMsgs:    1_000_000,
		Duplicates: 10 * time.Minute,
		Replicas:   1,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, cfg)
	if err != nil {
		t.Fatalf("create the application's stream: %v", err)
	}
	return st.CachedInfo().Config
}

func currentStreamConfig(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return st.CachedInfo().Config
}

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
	before := applicationStream(t, js, nil)

	code, out, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--role", "target", "--start", "new")
	if code != 0 {
		t.Fatalf("subs ensure: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"stream EVENTS exists and is usable", "max-age: 24h0m0s (declared forever", "max-msgs: 1000000 (declared unlimited", "stream EVENTS_DLQ created"} {
		if !strings.Contains(out, want) {
			t.Errorf("subs ensure output lacks %q:\n%s", want, out)
		}
	}
	if after := currentStreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
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
	if after := currentStreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
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
			before := applicationStream(t, js, c.mutate)
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
			if after := currentStreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused stream changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestEnsureUpdatesExactlyWhatItNames(t *testing.T) {
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	before := applicationStream(t, js, func(c *jetstream.StreamConfig) { c.Duplicates = time.Minute })
	code, out, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--duplicate-window", "5m", "--max-age", "72h",
		"--update-stream", "duplicate-window")
	if code != 0 || !strings.Contains(out, "duplicate-window: 1m0s -> 5m0s (updated)") {
		t.Fatalf("subs ensure --update-stream: exit %d\n%s\n%s", code, out, errOut)
	}
	want := before
	want.Duplicates = 5 * time.Minute // and nothing else: max age was not named
	if after := currentStreamConfig(t, js, "EVENTS"); !reflect.DeepEqual(after, want) {
		t.Fatalf("after --update-stream=duplicate-window:\ngot  %+v\nwant %+v", after, want)
	}
	if code, _, errOut = runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target", "--update-stream", "retention"); code != cli.ExitUsage || !strings.Contains(errOut, "retention") {
		t.Fatalf("--update-stream=retention: exit %d %s", code, errOut)
	}
}
