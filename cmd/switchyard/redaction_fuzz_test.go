package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/switchyard/switchyard/console"
	"github.com/switchyard/switchyard/internal/redact"
	"github.com/switchyard/switchyard/internal/testenv"
)

// urlSpecial are the characters with a meaning in URLs and connection
// strings; passwords hold them all.
const urlSpecial = ":/?#[]@!$&'()*+,;=% \"{}\\<>^`|~"

// redactionSeeds are the seed passwords of FuzzSecretsNeverPrint; plain go
// test runs them.
var redactionSeeds = []string{
	"S3cret/with#every?char",
	urlSpecial,
	"bad%zzescape%",
	"p@ss:word,with;semi}colon'quote",
}

// secretCase runs one command whose only secret is pw, in process.
type secretCase struct {
	name string
	args func(pw, natsURL, dir string) []string
	// reaches is what the output must contain to show the secret-bearing
	// value was used (so the case exercises a real error path).
	reaches []string
}

// dsnForms embed a password in every DSN syntax a user may give.
var dsnForms = map[string]func(pw string) string{
	"postgres-url": func(pw string) string {
		return "postgres://app:" + pw + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=1"
	},
	"sqlserver-url": func(pw string) string { return "sqlserver://sa:" + pw + "@127.0.0.1:1?database=x&dial+timeout=1" },
	"rethinkdb-url": func(pw string) string { return "rethinkdb://admin:" + pw + "@127.0.0.1:1/db" },
	"postgres-query": func(pw string) string {
		return "postgres://app@127.0.0.1:1/db?password=" + pw + "&sslmode=disable"
	},
	"libpq-keyvalue": func(pw string) string {
		return "host=127.0.0.1 port=1 user=app password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
	},
	"sqlserver-keyvalue": func(pw string) string {
		return "server=127.0.0.1,1;user id=sa;password={" + strings.ReplaceAll(pw, "}", "}}") + "};database=x"
	},
}

// natsForms embed a password (or token) in NATS URLs.
var natsForms = map[string]func(pw string) string{
	"user-password": func(pw string) string { return "nats://app:" + pw + "@127.0.0.1:1" },
	"token":         func(pw string) string { return "nats://" + pw + "@127.0.0.1:1" },
	"list":          func(pw string) string { return "nats://127.0.0.1:1,nats://app:" + pw + "@127.0.0.1:2" },
}

// dsnCommands are every command taking a store DSN, with the DSN given by
// dsn and a reachable NATS server, so they get as far as opening the store.
func dsnCommands(dsn string) []secretCase {
	return []secretCase{
		{name: "backfill", args: func(_, n, dir string) []string {
			return []string{"backfill", "--nats", n, "--source", dsn, "--target", "sqlite:" + filepath.Join(dir, "t.db"), "--entities", "tasks"}
		}},
		{name: "backfill-target", args: func(_, n, dir string) []string {
			return []string{"backfill", "--nats", n, "--target", dsn, "--source", existingSQLite(dir, "s.db"), "--entities", "tasks"}
		}},
		{name: "verify", args: func(_, n, dir string) []string {
			return []string{"verify", "--nats", n, "--source", dsn, "--target", "sqlite:" + filepath.Join(dir, "t.db"), "--entities", "tasks"}
		}},
		{name: "repair", args: func(_, n, dir string) []string {
			return []string{"repair", "--source", dsn, "--target", "sqlite:" + filepath.Join(dir, "t.db"), "--findings", writeFileIn(dir, `{"entity":"tasks","key":"k1","kind":"missing"}`+"\n")}
		}},
		{name: "worker", args: func(_, n, _ string) []string {
			return []string{"worker", "--nats", n, "--consumer", "target", "--ensure", "--sink", dsn, "--http", "127.0.0.1:0"}
		}},
		{name: "read-api", args: func(_, n, dir string) []string {
			return []string{"read-api", "--nats", n, "--listen", "127.0.0.1:0", "--access-file", readAPIAccess(dir), "--legacy", dsn, "--target", "sqlite:" + filepath.Join(dir, "t.db")}
		}},
		{name: "dlq-replay", args: func(_, n, _ string) []string {
			return []string{"dlq", "replay", "--nats", n, "--consumer", "target", "--all", "--version-source", "stream", "--sink", dsn}
		}},
		{name: "bench-store", args: func(_, _, _ string) []string {
			return []string{"bench-store", "--dsn", dsn, "--rows", "10"}
		}},
		{name: "status", args: func(_, n, _ string) []string {
			return []string{"status", "--nats", n, "--source", dsn, "--target", dsn}
		}},
	}
}

// natsCommands are every command that connects to NATS.
func natsCommands() []secretCase {
	return []secretCase{
		{name: "worker", args: func(_, n, dir string) []string {
			return []string{"worker", "--nats", n, "--consumer", "target", "--sink", "sqlite:" + filepath.Join(dir, "t.db"), "--http", "127.0.0.1:0"}
		}},
		{name: "read-api", args: func(_, n, dir string) []string {
			return []string{"read-api", "--nats", n, "--listen", "127.0.0.1:0", "--access-file", readAPIAccess(dir), "--legacy", existingSQLite(dir, "l.db"), "--target", "sqlite:" + filepath.Join(dir, "t.db")}
		}},
		{name: "backfill", args: func(_, n, dir string) []string {
			return []string{"backfill", "--nats", n, "--source", "sqlite:" + filepath.Join(dir, "s.db"), "--target", "sqlite:" + filepath.Join(dir, "t.db"), "--entities", "tasks"}
		}},
		{name: "verify", args: func(_, n, dir string) []string {
			return []string{"verify", "--nats", n, "--source", "sqlite:" + filepath.Join(dir, "s.db"), "--target", "sqlite:" + filepath.Join(dir, "t.db"), "--entities", "tasks"}
		}},
		{name: "cleanup", args: func(_, n, _ string) []string {
			return []string{"cleanup", "--nats", n, "--legacy-consumer", "legacy"}
		}},
		{name: "status", args: func(_, n, _ string) []string { return []string{"status", "--nats", n} }},
		{name: "subs", args: func(_, n, _ string) []string { return []string{"subs", "list", "--nats", n} }},
		{name: "dlq", args: func(_, n, _ string) []string { return []string{"dlq", "list", "--nats", n, "--consumer", "target"} }},
		{name: "flags", args: func(_, n, _ string) []string { return []string{"flags", "get", "--nats", n} }},
		{name: "flags-set", args: func(_, n, _ string) []string {
			return []string{"flags", "set", "--nats", n, "--client", "acme", "--stage", "shadow", "--reason", "r", "--actor", "tester"}
		}},
		{name: "publish", args: func(_, n, dir string) []string {
			return []string{"publish", "--nats", n, "--file", writeFileIn(dir, eventLines(0, 1))}
		}},
		{name: "console", args: func(_, n, dir string) []string {
			return []string{"console", "--nats", n, "--listen", "127.0.0.1:0", "--users-file", consoleUsersFile}
		}},
	}
}

// consoleUsersFile is a valid users file for the console case.
var consoleUsersFile string

func writeConsoleUsers(t testing.TB) {
	hash, err := console.HashPassword("a long enough password", 10)
	if err != nil {
		t.Fatal(err)
	}
	consoleUsersFile = filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(consoleUsersFile, []byte("users:\n  - name: alice\n    role: operator\n    password_hash: \""+hash+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeFileIn(dir, content string) string { return writeNamedIn(dir, "events.jsonl", content) }

func writeNamedIn(dir, name, content string) string {
	path := filepath.Join(dir, name)
	_ = os.WriteFile(path, []byte(content), 0o600) // a missing file is an error path too
	return path
}

// existingSQLite is an empty SQLite store that exists, as a source must
// (a read-only role creates nothing).
func existingSQLite(dir, name string) string { return "sqlite:" + writeNamedIn(dir, name, "") }

// readAPIAccess is a valid --access-file, so read-api gets past its flags.
func readAPIAccess(dir string) string {
	return writeNamedIn(dir, "access.json", `{"callers": [{"name": "app", "token": "fuzz-test-token-0123456789abcdef", "clients": ["*"]}]}`)
}

// checkNoSecret runs c in process with a short deadline (commands that
// retry give up when it ends) and fails when any output holds pw.
func checkNoSecret(t *testing.T, label string, c secretCase, pw, natsURL string) string {
	t.Helper()
	dir := t.TempDir()
	args := c.args(pw, natsURL, dir)
	cmd, ok := commands[args[0]]
	if !ok {
		t.Fatalf("no command %s", args[0])
	}
	// Long enough to reach the store or server under load; commands that
	// retry give up when it ends.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := cmd.run(ctx, args[1:], &stdout, &stderr)
	out := stdout.String() + "\n" + stderr.String()
	if err != nil {
		out += "\n" + err.Error()
	}
	forms := []string{pw, url.PathEscape(pw), url.QueryEscape(pw)}
	// Parsers quote the password up to a delimiter (`invalid port
	// ":S3cret" after host`): its first and last pieces must not show either.
	if i := strings.IndexAny(pw, urlSpecial); i >= 6 {
		forms = append(forms, pw[:i])
	}
	if i := strings.LastIndexAny(pw, urlSpecial); i >= 0 && len(pw)-i-1 >= 6 {
		forms = append(forms, pw[i+1:])
	}
	for _, form := range forms {
		if strings.Contains(out, form) {
			t.Errorf("%s %s: the password %q (as %q) appears in the output:\n%s", label, c.name, pw, form, out)
			break
		}
	}
	return out
}

// runSecretCases runs every case in parallel: they mostly wait for a
// deadline.
func runSecretCases(t *testing.T, secret string, natsURL string) {
	// The password is framed so that it is unmistakable in the output.
	pw := "Zq9" + secret + "Xw7"
	var wg sync.WaitGroup
	check := func(label string, c secretCase, nu string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := checkNoSecret(t, label, c, pw, nu)
			if !strings.Contains(out, redact.Mask) && !strings.Contains(out, redact.Unparseable) {
				t.Errorf("%s %s: the output never names the secret-bearing value, so its error path was not reached:\n%s", label, c.name, out)
			}
		}()
	}
	for form, dsn := range dsnForms {
		for _, c := range dsnCommands(dsn(pw)) {
			check("DSN "+form, c, natsURL)
		}
	}
	for form, nu := range natsForms {
		for _, c := range natsCommands() {
			check("NATS "+form, c, nu(pw))
		}
	}
	// probe takes an HTTP URL, which may carry basic-auth credentials.
	check("HTTP URL", secretCase{name: "probe", args: func(pw, _, _ string) []string {
		return []string{"probe", "--timeout", "1s", "http://app:" + pw + "@127.0.0.1:1/healthz"}
	}}, natsURL)
	wg.Wait()
}

// FuzzSecretsNeverPrint runs passwords holding every URL-special character
// through every command's error paths, with bad and unreachable DSNs and
// NATS URLs, and fails when the password shows in stdout, stderr, the logs
// or the returned error. go test runs the seeds; explore with
// go test -run '^$' -fuzz FuzzSecretsNeverPrint ./cmd/switchyard/
func FuzzSecretsNeverPrint(f *testing.F) {
	for _, s := range redactionSeeds {
		f.Add(s)
	}
	srv := testenv.NATS(f)
	// The control plane exists, so read-only commands (status) get as far
	// as opening their stores.
	var initOut bytes.Buffer
	if code := run([]string{"flags", "init", "--nats", srv.URL}, &initOut, &initOut); code != 0 {
		f.Fatalf("flags init: exit %d: %s", code, initOut.String())
	}
	writeConsoleUsers(f)
	f.Fuzz(func(t *testing.T, secret string) {
		if secret == "" || len(secret) > 64 || strings.ContainsFunc(secret, unicode.IsControl) {
			return // flags and environment variables cannot carry these
		}
		runSecretCases(t, secret, srv.URL)
	})
}
