package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/subscriptions"
)

// isolateNATSConfig points the nats CLI's configuration at an empty
// directory, so no context of the machine running the tests applies, and
// clears the connection variables.
func isolateNATSConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	for _, v := range []string{"NATS_URL", "NATS_CONTEXT", "SWITCHYARD_NATS", "NATS_CREDS", "NATS_NKEY", "NATS_CA", "NATS_CERT", "NATS_KEY"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	return dir
}

func writeNATSContext(t *testing.T, configDir, name, body string, selected bool) {
	t.Helper()
	dir := filepath.Join(configDir, "nats", "context")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if selected {
		if err := os.WriteFile(filepath.Join(configDir, "nats", "context.txt"), []byte(name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOneShotCommandsFailFastNamingTheURL(t *testing.T) {
	isolateNATSConfig(t)
	for _, args := range [][]string{
		{"status", "--nats", "nats://127.0.0.1:4999"},
		{"flags", "get", "--nats", "nats://127.0.0.1:4999"},
		{"subs", "list", "--nats", "nats://127.0.0.1:4999"},
	} {
		start := time.Now()
		code, _, errOut := runCmd(t, args...)
		if took := time.Since(start); took > 6*time.Second {
			t.Errorf("%v took %v", args[:2], took)
		}
		if code != cli.ExitError || !strings.Contains(errOut, "nats://127.0.0.1:4999") {
			t.Errorf("%v with NATS down: exit %d, %q; want %d naming the URL", args[:2], code, errOut, cli.ExitError)
		}
	}

	// A server that accepts connections and never answers: the connect
	// timeout bounds the wait, and the password never prints.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	url := fmt.Sprintf("nats://ann:s3cret-pw@%s", ln.Addr())
	start := time.Now()
	code, _, errOut := runCmd(t, "status", "--nats", url, "--connect-timeout", "1s")
	took := time.Since(start)
	if code != cli.ExitError || took > 3*time.Second {
		t.Fatalf("status against a silent server: exit %d after %v: %s", code, took, errOut)
	}
	if !strings.Contains(errOut, ln.Addr().String()) || strings.Contains(errOut, "s3cret-pw") {
		t.Fatalf("the error must name the URL without its password: %q", errOut)
	}
}

func TestLongRunningCommandsKeepRetrying(t *testing.T) {
	isolateNATSConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sink := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	go func() {
		done <- runWorker(ctx, []string{"--nats", "nats://127.0.0.1:4999", "--consumer", "target", "--sink", sink, "--http", "", "--connect-timeout", "200ms"}, io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		t.Fatalf("the worker gave up while NATS was down: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("worker stopped before it was ready: %v, want a clean exit", err)
	}
}

func TestNATSURLAndContextsAreHonoured(t *testing.T) {
	config := isolateNATSConfig(t)
	srv := testenv.NATS(t)
	_, js := srv.Connect()
	if _, err := subscriptions.EnsureStream(context.Background(), js, subscriptions.StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}

	t.Setenv("NATS_URL", srv.URL)
	if code, _, errOut := runCmd(t, "subs", "list"); code != 0 {
		t.Fatalf("NATS_URL: exit %d: %s", code, errOut)
	}
	t.Setenv("SWITCHYARD_NATS", "nats://127.0.0.1:4999")
	if code, _, errOut := runCmd(t, "subs", "list"); code != cli.ExitError || !strings.Contains(errOut, "4999") {
		t.Fatalf("SWITCHYARD_NATS must win over NATS_URL: exit %d: %s", code, errOut)
	}
	os.Unsetenv("SWITCHYARD_NATS")
	os.Unsetenv("NATS_URL")

	writeNATSContext(t, config, "staging", fmt.Sprintf(`{"description":"test","url":%q}`, srv.URL), false)
	writeNATSContext(t, config, "down", `{"url":"nats://127.0.0.1:4998","user":"ann","password":"env://NO_SUCH_PASSWORD_VAR"}`, false)
	if code, _, errOut := runCmd(t, "subs", "list", "--context", "staging"); code != 0 {
		t.Fatalf("--context staging: exit %d: %s", code, errOut)
	}
	t.Setenv("NATS_CONTEXT", "staging")
	if code, _, errOut := runCmd(t, "subs", "list"); code != 0 {
		t.Fatalf("NATS_CONTEXT=staging: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "subs", "list", "--nats", "nats://127.0.0.1:4999"); code != cli.ExitError || !strings.Contains(errOut, "4999") || !strings.Contains(errOut, `"staging"`) {
		t.Fatalf("--nats must win over the context's url: exit %d: %s", code, errOut)
	}
	t.Setenv("NATS_URL", "nats://127.0.0.1:4997")
	if code, _, errOut := runCmd(t, "subs", "list"); code != cli.ExitError || !strings.Contains(errOut, "4997") {
		t.Fatalf("NATS_URL must win over the context's url: exit %d: %s", code, errOut)
	}
	os.Unsetenv("NATS_URL")
	os.Unsetenv("NATS_CONTEXT")
	if code, _, errOut := runCmd(t, "subs", "list", "--context", "nowhere"); code != cli.ExitUsage || !strings.Contains(errOut, `"nowhere" does not exist`) {
		t.Fatalf("a missing context: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "subs", "list", "--context", "down"); code != cli.ExitUsage || !strings.Contains(errOut, "NO_SUCH_PASSWORD_VAR") {
		t.Fatalf("an unresolvable password: exit %d: %s", code, errOut)
	}

	// The selected context (context.txt) applies without --context.
	writeNATSContext(t, config, "staging", fmt.Sprintf(`{"url":%q}`, srv.URL), true)
	if code, _, errOut := runCmd(t, "subs", "list"); code != 0 {
		t.Fatalf("selected context: exit %d: %s", code, errOut)
	}
}

func TestSafetySwitchesAreNeverReadFromTheEnvironment(t *testing.T) {
	isolateNATSConfig(t)
	srv := testenv.NATS(t)
	t.Setenv("SWITCHYARD_FORCE", "1")
	t.Setenv("SWITCHYARD_CONFIRM", "target")
	t.Setenv("SWITCHYARD_MIN_SHADOW_READS", "-1")
	t.Setenv("SWITCHYARD_REASON", "from the environment")
	code, _, errOut := runCmd(t, "flags", "set", "--nats", srv.URL, "--client", "c1", "--stage", "target", "--reason", "go", "--actor", "ann")
	if code != cli.ExitCheckFailed || !strings.Contains(errOut, "refused") {
		t.Fatalf("SWITCHYARD_FORCE=1 forced a gated move: exit %d: %s", code, errOut)
	}
	if code, _, errOut = runCmd(t, "flags", "default", "--nats", srv.URL, "--stage", "shadow", "--actor", "ann"); code != cli.ExitUsage || !strings.Contains(errOut, "--reason is required") {
		t.Fatalf("SWITCHYARD_REASON was read: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "subs", "ensure", "--nats", srv.URL, "--consumer", "target"); code != 0 {
		t.Fatalf("ensure: %s", errOut)
	}
	if code, _, errOut = runCmd(t, "subs", "delete", "--nats", srv.URL, "--consumer", "target"); code != cli.ExitUsage {
		t.Fatalf("SWITCHYARD_CONFIRM confirmed a deletion: exit %d: %s", code, errOut)
	}
}

func TestEnvironmentAllowList(t *testing.T) {
	for _, flag := range []string{"force", "confirm", "reason", "actor", "min-shadow-reads", "max-lag", "batch-size", "consumer", "restart", "expect-revision", "dry-run", "update-stream"} {
		if vars, ok := cli.EnvVars[flag]; ok {
			t.Errorf("--%s reads %v from the environment", flag, vars)
		}
	}
	owner := map[string]string{}
	for flag, vars := range cli.EnvVars {
		for _, v := range vars {
			if other, dup := owner[v]; dup {
				t.Errorf("%s means both --%s and --%s", v, other, flag)
			}
			owner[v] = flag
		}
	}
	if !errors.Is(cli.Usagef("x"), cli.ErrUsage) {
		t.Fatal("usage errors must match ErrUsage")
	}
}
