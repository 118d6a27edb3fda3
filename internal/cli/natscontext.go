package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// NATSContext is a connection context saved by the nats CLI (`nats context
// save`): ~/.config/nats/context/NAME.json (or under $XDG_CONFIG_HOME), the
// selected one named in ~/.config/nats/context.txt. Secrets (password,
// token, user_jwt, user_seed) may be literal, env://VAR or file://PATH; paths
// (creds, nkey, cert, key, ca) may start with ~/ or file://.
type NATSContext struct {
	Name        string `json:"-"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Token       string `json:"token"`
	User        string `json:"user"`
	Password    string `json:"password"`
	Creds       string `json:"creds"`
	NKey        string `json:"nkey"`
	Cert        string `json:"cert"`
	Key         string `json:"key"`
	CA          string `json:"ca"`
	UserJWT     string `json:"user_jwt"`
	UserSeed    string `json:"user_seed"`
	InboxPrefix string `json:"inbox_prefix"`
	TLSFirst    bool   `json:"tls_first"`
	JSDomain    string `json:"jetstream_domain"`
	JSAPIPrefix string `json:"jetstream_api_prefix"`
	// Settings Switchyard cannot honour; a context using them is refused
	// rather than half applied.
	NSCLookup  string `json:"nsc"`
	SocksProxy string `json:"socks_proxy"`
	CertStore  string `json:"windows_cert_store"`
}

// natsConfigDir is where the nats CLI keeps its configuration.
func natsConfigDir() (string, error) {
	if xdg := os.Getenv("XDG_CONFIG_HOME"); xdg != "" {
		return filepath.Join(xdg, "nats"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("nats context: %w", err)
	}
	return filepath.Join(home, ".config", "nats"), nil
}

// LoadNATSContext reads the nats CLI context name, or the selected one
// when name is empty. With no name and none selected it returns nil and no
// error. A named context that does not exist, malformed JSON and settings
// Switchyard cannot honour are usage errors.
func LoadNATSContext(name string) (*NATSContext, error) {
	dir, err := natsConfigDir()
	if err != nil {
		return nil, err
	}
	if name == "" {
		b, err := os.ReadFile(filepath.Join(dir, "context.txt"))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("nats context: %w", err)
		}
		if name = strings.TrimSpace(string(b)); name == "" {
			return nil, nil
		}
	}
	if name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 }) {
		return nil, Usagef("nats context %q: not a context name", name)
	}
	path := filepath.Join(dir, "context", name+".json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Usagef("nats context %q does not exist (%s; see nats context ls)", name, path)
	}
	if err != nil {
		return nil, fmt.Errorf("nats context %q: %w", name, err)
	}
	c := &NATSContext{Name: name}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, Usagef("nats context %q (%s): %v", name, path, err)
	}
	switch {
	case c.NSCLookup != "" || strings.HasPrefix(c.Creds, "nsc://"):
		return nil, Usagef("nats context %q uses an nsc lookup, which switchyard does not support: point creds at a credentials file", name)
	case c.SocksProxy != "":
		return nil, Usagef("nats context %q uses a SOCKS proxy, which switchyard does not support", name)
	case c.CertStore != "":
		return nil, Usagef("nats context %q uses the Windows certificate store, which switchyard does not support", name)
	}
	return c, nil
}

// secret resolves a secret setting of a context: env://VAR, file://PATH or
// the literal value.
func (c *NATSContext) secret(field, v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "env://"):
		name := strings.TrimPrefix(v, "env://")
		s, ok := os.LookupEnv(name)
		if !ok {
			return "", Usagef("nats context %q: %s names the environment variable %s, which is not set", c.Name, field, name)
		}
		return s, nil
	case strings.HasPrefix(v, "file://"):
		b, err := os.ReadFile(expandHome(strings.TrimPrefix(v, "file://")))
		if err != nil {
			return "", Usagef("nats context %q: %s: %v", c.Name, field, err)
		}
		return strings.TrimSpace(string(b)), nil
	case strings.Contains(v, "://") && !strings.HasPrefix(v, "data:"):
		return "", Usagef("nats context %q: %s uses a scheme switchyard does not resolve (only env:// and file://)", c.Name, field)
	}
	return v, nil
}

// path resolves a file setting of a context.
func (c *NATSContext) path(v string) string {
	return expandHome(strings.TrimPrefix(v, "file://"))
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
