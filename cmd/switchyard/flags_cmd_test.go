package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/reads"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/all"
)

func TestFlagsCommand(t *testing.T) {
	srv := testenv.NATS(t)
	n := []string{"--nats", srv.URL}
	cmd := func(args ...string) (int, string, string) {
		t.Helper()
		return runCmd(t, append(append([]string{"flags"}, args...), n...)...)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "--client", "c1", "--stage", "shadow", "--actor", "ann"}, "--reason is required"},
		{[]string{"set", "--client", "c1", "--stage", "live", "--reason", "r", "--actor", "ann"}, `"live" is not one of`},
		{[]string{"set", "--stage", "shadow", "--reason", "r", "--actor", "ann"}, "either --client or --percentage"},
		{[]string{"set", "--percentage", "150", "--stage", "shadow", "--reason", "r", "--actor", "ann"}, "outside 0..100"},
		{[]string{"set", "--client", "a\x01b", "--stage", "shadow", "--reason", "r", "--actor", "ann"}, "control character"},
		{[]string{"frobnicate"}, "unknown subcommand"},
	} {
		code, _, errOut := cmd(tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 mentioning %q", tc.args, code, errOut, tc.want)
		}
	}

	if code, out, errOut := cmd("set", "--client", "c1,c2", "--stage", "shadow", "--reason", "pilot", "--actor", "ann"); code != 0 || !strings.Contains(out, "client c2: legacy -> shadow") {
		t.Fatalf("set: exit %d: %s %s", code, out, errOut)
	}
	// No verify covered c1 yet: the move onto the target is refused.
	code, _, errOut := cmd("set", "--client", "c1", "--stage", "target", "--reason", "go", "--actor", "ann")
	if code != 1 || !strings.Contains(errOut, "verify-clean") || !strings.Contains(errOut, "backfill-complete") {
		t.Fatalf("gated set: exit %d: %s", code, errOut)
	}
	if code, out, errOut := cmd("set", "--client", "c1", "--stage", "target", "--reason", "customer asked, checked by hand", "--actor", "ann", "--force"); code != 0 || !strings.Contains(out, "forced past 3 failing gates") {
		t.Fatalf("forced set: exit %d: %s %s", code, out, errOut)
	}
	code, out, errOut := cmd("get", "--client", "c1", "--json")
	var got []struct {
		Stage  string `json:"stage"`
		Source string `json:"source"`
		Gates  struct {
			Passed bool `json:"passed"`
		} `json:"gates"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || got[0].Stage != "target" || got[0].Source != "override" || got[0].Gates.Passed {
		t.Fatalf("get: exit %d: %s %s", code, out, errOut)
	}
	if code, out, _ := cmd("history", "--client", "c1"); code != 0 || !strings.Contains(out, "customer asked") || !strings.Contains(out, "pilot") {
		t.Fatalf("history: exit %d: %s", code, out)
	}
	code, out, _ = cmd("audit", "--client", "c1", "--json")
	var entries []flags.AuditEntry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 2 || !entries[0].Forced || !strings.HasSuffix(entries[0].Actor, "(note: ann)") || len(entries[0].FailedGates) != 3 {
		t.Fatalf("audit: exit %d: %s", code, out)
	}
	if code, out, errOut := cmd("reset-shadow", "--client", "c1", "--reason", "repaired", "--actor", "ann"); code != 0 || !strings.Contains(out, "shadow counters reset") {
		t.Fatalf("reset-shadow: exit %d: %s %s", code, out, errOut)
	}
	if code, out, errOut := cmd("set", "--percentage", "12.5", "--stage", "shadow", "--reason", "widen", "--actor", "ann"); code != 0 || !strings.Contains(out, "none -> shadow 12.5%") {
		t.Fatalf("rollout: exit %d: %s %s", code, out, errOut)
	}
	if code, out, _ := cmd("get"); code != 0 || !strings.Contains(out, "12.5% of clients without override to shadow") || !strings.Contains(out, "target         1") {
		t.Fatalf("get config: exit %d: %s", code, out)
	}
	if code, out, _ := cmd("list", "--stage", "shadow"); code != 0 || !strings.Contains(out, "c2") || strings.Contains(out, "c1") {
		t.Fatalf("list: exit %d: %s", code, out)
	}
}

func TestReadAPICommand(t *testing.T) {
	srv := testenv.NATS(t)
	dir := t.TempDir()
	legacyDSN, targetDSN := "sqlite:"+filepath.Join(dir, "legacy.db"), "sqlite:"+filepath.Join(dir, "target.db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for dsn, doc := range map[string]string{legacyDSN: `{"from":"legacy"}`, targetDSN: `{"from":"target"}`} {
		st, err := all.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Apply(ctx, []stores.Write{{Entity: "orders", Key: "k1", Client: "acme", Version: 1, Data: json.RawMessage(doc)}}); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}

	if code, _, errOut := runCmd(t, "read-api", "--nats", srv.URL, "--target", targetDSN); code != 2 || !strings.Contains(errOut, "--legacy is required") {
		t.Fatalf("missing --legacy: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "read-api", "--nats", srv.URL, "--legacy", legacyDSN, "--target", targetDSN); code != 2 || !strings.Contains(errOut, "--access-file is required") {
		t.Fatalf("missing --access-file: exit %d: %s", code, errOut)
	}
	const token = "read-api-command-token-0123456789"
	access := filepath.Join(dir, "access.json")
	if err := os.WriteFile(access, []byte(`{"callers": [{"name": "app", "token": "`+token+`", "clients": ["acme"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	if code, _, errOut := runCmd(t, "flags", "init", "--nats", srv.URL); code != 0 {
		t.Fatalf("flags init: %s", errOut)
	}
	port := testenv.FreePort(t)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- runReadAPI(runCtx, []string{"--nats", srv.URL, "--legacy", legacyDSN, "--target", targetDSN, "--access-file", access, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--stats-flush-interval", "50ms"}, &stdout, &stderr)
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	}, "read API ready")

	// Without the token the API answers nobody; with it, only acme.
	for path, want := range map[string]int{"/v1/orders/k1?client=acme": 401, "/v1/_mismatches": 401} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s without a token: %d, want %d", path, resp.StatusCode, want)
		}
	}
	authed := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := authed("/v1/orders/k1?client=initech"); resp.StatusCode != 403 {
		t.Fatalf("token of acme reading initech: %d, want 403", resp.StatusCode)
	}
	if resp := authed("/v1/_mismatches"); resp.StatusCode != 403 {
		t.Fatalf("token without admin scope reading mismatches: %d, want 403", resp.StatusCode)
	}
	served := func() (string, string) {
		resp := authed("/v1/orders/k1?client=acme")
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get(reads.HeaderServedBy), string(b)
	}
	if by, body := served(); by != "legacy" || !strings.Contains(body, `"from":"legacy"`) {
		t.Fatalf("before the switch: %s %s", by, body)
	}
	if code, _, errOut := runCmd(t, "flags", "set", "--nats", srv.URL, "--client", "acme", "--stage", "target", "--reason", "demo", "--actor", "ann", "--force"); code != 0 {
		t.Fatalf("switch: %s", errOut)
	}
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		by, body := served()
		return by == "target" && strings.Contains(body, `"from":"target"`), by
	}, "the running read API follows the switch")
	// The client became known through the router.
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		code, out, _ := runCmd(t, "flags", "list", "--nats", srv.URL)
		return code == 0 && strings.Contains(out, "acme"), out
	}, "served client registered")

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `switchyard_flag_evaluations_total{stage="target"}`) || !strings.Contains(string(metrics), "switchyard_flag_provider_stale 0") {
		t.Fatalf("metrics lack evaluations:\n%.2000s", metrics)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("read-api: %v (%s)", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("read-api did not stop")
	}
}
