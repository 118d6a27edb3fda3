package opstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/subscriptions"
)

// step is one block of docs/runbook.md marked for rehearsal.
type step struct {
	name   string
	script string
}

// runbookSteps reads the rehearsal blocks of docs/runbook.md in order: a
// "<!-- rehearsal: NAME -->" line followed by a ```sh block.
func runbookSteps(t *testing.T) []step {
	t.Helper()
	f, err := os.Open("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []step
	var pending string
	var cur *step
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			steps = append(steps, *cur)
			cur = nil
		case cur != nil:
			cur.script += line + "\n"
		case strings.HasPrefix(line, "<!-- rehearsal: "):
			pending = strings.TrimSuffix(strings.TrimPrefix(line, "<!-- rehearsal: "), " -->")
		case pending != "" && line == "```sh":
			cur, pending = &step{name: pending}, ""
		case pending != "" && strings.TrimSpace(line) != "":
			t.Fatalf("runbook: rehearsal marker %q is not followed by a ```sh block", pending)
		}
	}
	return steps
}

// TestRunbookRehearsal runs the runbook's commands in order against
// embedded NATS and two SQLite stores while a producer keeps publishing and
// the legacy subscription keeps applying, then checks the outcome: the
// legacy subscription is gone, the migration is cleaned up, and every
// client's reads are served by the target store.
func TestRunbookRehearsal(t *testing.T) {
	steps := runbookSteps(t)
	want := []string{"preflight", "subscribe", "deploy-workers", "watch-workers", "backfill", "verify", "shadow-test-clients", "switch-test-clients", "shadow-everyone", "switch-everyone", "cleanup"}
	var got []string
	for _, s := range steps {
		got = append(got, s.name)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("runbook rehearsal steps = %v, want %v", got, want)
	}

	srv := testenv.NATS(t)
	_, js := srv.Connect()
	dir := t.TempDir()
	readAPI := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	env := []string{
		"SWITCHYARD_NATS=" + srv.URL,
		"LEGACY_DSN=sqlite:" + filepath.Join(dir, "legacy.db"),
		"TARGET_DSN=sqlite:" + filepath.Join(dir, "target.db"),
		fmt.Sprintf("WORKER_HTTP=127.0.0.1:%d", testenv.FreePort(t)),
		"READ_API=" + readAPI,
		"READ_API_TOKEN=" + readAPIToken,
		"USER=runbook",
		"PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH"),
	}

	// The application as it is before the migration: events on the stream,
	// the old subscription writing the legacy store.
	startProcess(t, env, "worker", "--stream", "EVENTS", "--consumer", "legacy", "--role", "legacy",
		"--start", "all", "--ensure", "--sink", "sqlite:"+filepath.Join(dir, "legacy.db"))
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		_, err := js.Consumer(context.Background(), "EVENTS", "legacy")
		return err == nil, fmt.Sprint(err)
	}, "legacy subscription created")
	prod := startProducer(t, js, 15*time.Millisecond)
	waitProcessed(t, js, "legacy", 60)

	hooks := map[string]func(){
		"shadow-test-clients": func() {
			// The application keeps reading the test client through the
			// read API until the gate's compared reads and keys are
			// recorded.
			readUntilCompared(t, js, readAPI, "acme", 100)
		},
		"shadow-everyone": func() {
			for _, client := range testClients[1:] {
				readUntilCompared(t, js, readAPI, client, 100)
			}
		},
	}
	for _, s := range steps {
		runStep(t, dir, env, s)
		if hook := hooks[s.name]; hook != nil {
			hook()
		}
	}
	prod.halt()

	ctx := context.Background()
	if _, err := subscriptions.Inspect(ctx, js, "EVENTS", "legacy"); !errors.Is(err, subscriptions.ErrNotFound) {
		t.Errorf("after cleanup the legacy subscription still exists (err %v)", err)
	}
	state, err := migrator.OpenState(ctx, js, migrator.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := state.Phase(ctx); err != nil || rec.Phase != migrator.PhaseCleanedUp {
		t.Errorf("phase = %+v (%v), want %s", rec, err, migrator.PhaseCleanedUp)
	}
	for _, client := range testClients {
		if served := servedBy(t, readAPI, client); served != "target" {
			t.Errorf("client %s reads are served by %q after the migration, want target", client, served)
		}
	}
}

// runStep runs one runbook block with bash -e in dir. Background commands of
// the block keep running in the block's process group, which is killed when
// the test ends.
func runStep(t *testing.T, dir string, env []string, s step) {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", s.script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	if err != nil {
		t.Fatalf("runbook step %q failed: %v\n--- script\n%s--- output\n%s%s", s.name, err, s.script, out, backgroundLogs(dir))
	}
	t.Logf("runbook step %q:\n%s", s.name, out)
}

func backgroundLogs(dir string) string {
	var b strings.Builder
	for _, name := range []string{"target-worker.log", "read-api.log"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			fmt.Fprintf(&b, "--- %s\n%s", name, data)
		}
	}
	return b.String()
}

func waitProcessed(t *testing.T, js jetstream.JetStream, consumer string, n uint64) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		st, err := subscriptions.Inspect(context.Background(), js, "EVENTS", consumer)
		if err != nil {
			return false, err.Error()
		}
		return st.AckFloor >= n, fmt.Sprintf("ack floor %d", st.AckFloor)
	}, consumer+" subscription applied events")
}

// readAPIToken is the application's token for the read API; the runbook
// writes its hash into the access file.
const readAPIToken = "runbook-application-token-0123456789"

// appGet reads url from the read API as the application.
func appGet(url string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+readAPIToken)
	return http.DefaultClient.Do(req)
}

// readThrough sends n list reads of client's tasks to the read API.
func readThrough(t *testing.T, addr, client string, n int) {
	t.Helper()
	url := "http://" + addr + "/v1/task?limit=50&client=" + client
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		resp, err := appGet(url)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	}, "read API answering")
	for i := 0; i < n; i++ {
		resp, err := appGet(url)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("read %d: %s", i, resp.Status)
		}
	}
}

// readUntilCompared plays the application: it reads client's tasks through
// the read API, 20 at a time, until the shadow counters in NATS record n
// compared reads over the shadow gate's distinct keys. Any mismatch fails
// the test: the stores were verified clean, and a difference in flight must
// settle, not count. The gate's time span is not waited for: a counter of
// one more router dated the span back stands in for the minutes a real
// migration shadows its clients.
func readUntilCompared(t *testing.T, js jetstream.JetStream, readAPI, client string, n int64) {
	t.Helper()
	ctx := context.Background()
	stats, err := flags.OpenShadowStats(ctx, js, flags.ShadowStatsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		c, err := stats.ClientStats(ctx, client)
		if err != nil {
			return false, err.Error()
		}
		if c.Mismatches > 0 {
			t.Fatalf("shadow reads of %s found %d mismatches after a clean verify: %+v", client, c.Mismatches, c)
		}
		if c.Compared() >= n && c.Keys >= flags.DefaultMinShadowKeys {
			return true, ""
		}
		readThrough(t, readAPI, client, 20)
		return false, fmt.Sprintf("%+v", c)
	}, "shadow reads recorded for "+client)
	stats.Record(client, flags.ShadowCounts{FirstCompared: time.Now().Add(-flags.DefaultMinShadowSpan - time.Minute)})
	if err := stats.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// servedBy returns which store answered a read of client's tasks.
func servedBy(t *testing.T, addr, client string) string {
	t.Helper()
	resp, err := appGet("http://" + addr + "/v1/task?limit=1&client=" + client)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.Header.Get(reads.HeaderServedBy)
}
