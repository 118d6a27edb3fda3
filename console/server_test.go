package console_test

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/console"
)

func TestServerConfigBuild(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var opts console.Options
	srv, err := console.ServerConfig{TrustedProxies: []string{"10.0.0.0/8", "192.168.1.0/24"}}.Build(&opts, log)
	if err != nil {
		t.Fatal(err)
	}
	if srv.TLSConfig != nil || srv.Handler != nil {
		t.Fatalf("plain server expected without handler, got TLS %v handler %v", srv.TLSConfig, srv.Handler)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.0/24")}
	if len(opts.TrustedProxies) != 2 || opts.TrustedProxies[0] != want[0] || opts.TrustedProxies[1] != want[1] {
		t.Fatalf("trusted proxies %v, want %v", opts.TrustedProxies, want)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		cfg           console.ServerConfig
		setting, text string
	}{
		{console.ServerConfig{TrustedProxies: []string{"10.0.0.1"}}, "trusted-proxy", `trusted-proxy "10.0.0.1" is not a CIDR such as 10.0.0.0/8: `},
		{console.ServerConfig{TLSCert: "cert.pem"}, "tls-cert", "tls-cert and --tls-key go together"},
		{console.ServerConfig{TLSKey: "key.pem"}, "tls-cert", "tls-cert and --tls-key go together"},
		{console.ServerConfig{TLSCert: missing, TLSKey: missing}, "tls-cert", "tls-cert/--tls-key: open "},
	} {
		_, err := tc.cfg.Build(&console.Options{}, log)
		var se *console.ServerConfigError
		if !errors.As(err, &se) || se.Setting != tc.setting || !strings.HasPrefix(err.Error(), tc.text) {
			t.Errorf("%+v: got %v, want a *ServerConfigError on %s starting %q", tc.cfg, err, tc.setting, tc.text)
		}
	}
}

func TestHashPasswordFrom(t *testing.T) {
	hash, err := console.HashPasswordFrom(strings.NewReader("a sufficiently long secret\r\nnext line\n"), console.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := console.ParseUsers([]byte(`{"users":[{"name":"olivia","role":"viewer","password_hash":"` + hash + `"}]}`)); err != nil {
		t.Fatalf("the hash does not load: %v", err)
	}
	for _, tc := range []struct {
		in   string
		cost int
		want error
	}{
		{"a sufficiently long secret\n", console.MinBcryptCost - 1, console.ErrWeakHash},
		{"a sufficiently long secret\n", console.MaxBcryptCost + 1, console.ErrWeakHash},
		{"", console.MinBcryptCost, console.ErrNoPassword},
		{"\n", console.MinBcryptCost, console.ErrNoPassword},
		{"short\n", console.MinBcryptCost, console.ErrWeakPassword},
		{strings.Repeat("x", 5000), console.MinBcryptCost, console.ErrWeakPassword},
	} {
		if _, err := console.HashPasswordFrom(strings.NewReader(tc.in), tc.cost); !errors.Is(err, tc.want) {
			t.Errorf("%.20q cost %d: got %v, want %v", tc.in, tc.cost, err, tc.want)
		}
	}
}
