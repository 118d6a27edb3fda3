package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeContext(t *testing.T, root, name, body string) {
	t.Helper()
	dir := filepath.Join(root, "nats", "context")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNATSContext(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", root)
	if c, err := LoadNATSContext(""); c != nil || err != nil {
		t.Fatalf("nothing selected: %v %v, want nil, nil", c, err)
	}
	writeContext(t, root, "prod", `{"description":"production","url":"nats://a:4222,nats://b:4222","user":"ann","password":"env://PROD_NATS_PASSWORD","ca":"~/ca.pem","jetstream_domain":"hub","inbox_prefix":"_INBOX_sy"}`)
	if err := os.WriteFile(filepath.Join(root, "nats", "context.txt"), []byte("prod\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadNATSContext("")
	if err != nil || c.Name != "prod" || c.URL != "nats://a:4222,nats://b:4222" || c.JSDomain != "hub" || c.InboxPrefix != "_INBOX_sy" {
		t.Fatalf("selected context: %+v, %v", c, err)
	}
	home, _ := os.UserHomeDir()
	if got := c.path(c.CA); got != filepath.Join(home, "ca.pem") {
		t.Errorf("ca path %q", got)
	}
	t.Setenv("PROD_NATS_PASSWORD", "pw")
	if pw, err := c.secret("password", c.Password); err != nil || pw != "pw" {
		t.Errorf("password from env://: %q %v", pw, err)
	}
	var f NATSFlags
	f.Context, f.ConnectTimeout = "prod", DefaultConnectTimeout
	target, err := f.resolve()
	if err != nil || target.url != c.URL || target.jsDomain != "hub" || target.context != "prod" {
		t.Fatalf("resolve: %+v %v", target, err)
	}
	f.URL = "nats://flag:4222"
	if target, _ := f.resolve(); target.url != "nats://flag:4222" {
		t.Errorf("the flag must win over the context: %q", target.url)
	}

	for name, body := range map[string]string{
		"nsc":   `{"url":"nats://x","nsc":"nsc://op/acc/user"}`,
		"socks": `{"url":"nats://x","socks_proxy":"127.0.0.1:1080"}`,
		"bad":   `{"url":`,
	} {
		writeContext(t, root, name, body)
		if _, err := LoadNATSContext(name); !errors.Is(err, ErrUsage) {
			t.Errorf("context %s: %v, want a usage error", name, err)
		}
	}
	for _, name := range []string{"missing", "../prod", "a/b"} {
		if _, err := LoadNATSContext(name); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), name) {
			t.Errorf("context %q: %v, want a usage error naming it", name, err)
		}
	}
}
