package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/testenv"
)

func TestConsoleHashPassword(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runHashPassword([]string{"--cost", "10"}, strings.NewReader("a sufficiently long secret\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(out.String())
	users, err := console.NewUsers([]console.User{{Name: "ann", Role: console.RoleViewer, PasswordHash: hash}})
	if err != nil {
		t.Fatalf("printed hash %q unusable: %v", hash, err)
	}
	if _, err := users.Authenticate("ann", "a sufficiently long secret"); err != nil {
		t.Fatalf("hash does not match the password: %v", err)
	}
	var errOut4 bytes.Buffer
	err = runHashPassword([]string{"--cost", "4"}, strings.NewReader("a sufficiently long secret\n"), io.Discard, &errOut4)
	if !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "--cost 4") || !strings.Contains(err.Error(), "10..31") {
		t.Errorf("--cost 4: %v, want a usage error naming the accepted range", err)
	}
	for name, in := range map[string]string{"empty": "", "short": "short\n"} {
		err := runHashPassword([]string{"--cost", "10"}, strings.NewReader(in), io.Discard, io.Discard)
		if !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%s password: %v, want a usage error", name, err)
		}
	}
}

func TestConsoleUsageErrors(t *testing.T) {
	t.Setenv(consoleUsersEnv, "")
	os.Unsetenv(consoleUsersEnv)
	dir := t.TempDir()
	badUsers := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(badUsers, []byte("users:\n  - name: ann\n    role: admin\n    password_hash: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no users":                {[]string{"console"}, "no users"},
		"bad users file":          {[]string{"console", "--users-file", badUsers}, `role "admin"`},
		"missing file":            {[]string{"console", "--users-file", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		"stray argument":          {[]string{"console", "extra"}, "unexpected argument"},
		"verify without target":   {[]string{"console", "--legacy", "sqlite:a.db", "--verify-entities", "task"}, "--legacy, --target and --verify-entities go together"},
		"verify without entities": {[]string{"console", "--legacy", "sqlite:a.db", "--target", "sqlite:b.db"}, "--legacy, --target and --verify-entities go together"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", name, code, errOut.String(), tc.want)
		}
	}
}

func TestConsoleServesAndShutsDown(t *testing.T) {
	srv := testenv.NATS(t)
	hash, err := console.HashPassword("operator password", console.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "flags", "init", "--nats", srv.URL); code != 0 {
		t.Fatalf("flags init: %s", errOut)
	}
	t.Setenv(consoleUsersEnv, fmt.Sprintf(`{"users":[{"name":"olivia","role":"operator","password_hash":%q}]}`, hash))
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runConsole(ctx, []string{"--listen", addr, "--nats", srv.URL, "--insecure-cookies", "--log-level", "warn"}, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	}, "console answers /healthz")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/clients")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("/clients without login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("console after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("console did not shut down within 15 s")
	}
}
