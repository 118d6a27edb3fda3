package rethinkdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/stores"
)

func TestParseDSN(t *testing.T) {
	d, err := ParseDSN("rethinkdb://admin:p%40ss@db1:28016,db2/app?pool=4&timeout=3s&chunk=500&key_field=uuid&client_field=tenant&version_field=_v&deleted_field=_gone")
	if err != nil {
		t.Fatal(err)
	}
	c := d.Connect
	if c.Username != "admin" || c.Password != "p@ss" || strings.Join(c.Addresses, ",") != "db1:28016,db2:28015" ||
		c.Database != "app" || c.MaxOpen != 4 || c.InitialCap != 2 || c.Timeout != 3*time.Second || !c.UseJSONNumber || c.TLSConfig != nil {
		t.Fatalf("connect options = %+v", c)
	}
	if d.Config.KeyField != "uuid" || d.Config.ClientField != "tenant" || d.Config.VersionField != "_v" ||
		d.Config.DeletedField != "_gone" || d.Config.AddedField != DefaultAddedField || d.Config.ChunkSize != 500 {
		t.Fatalf("config = %+v", d.Config)
	}
	if got := strings.Join(d.Config.unnamedBookkeeping(), ","); got != "_switchyard_updated_at,_switchyard_added" {
		t.Fatalf("fields left at their defaults = %s, want _switchyard_updated_at,_switchyard_added (the others were named)", got)
	}
	d, err = ParseDSN("rethinkdb://localhost/app")
	if err != nil || d.Connect.MaxOpen != DefaultPoolSize || d.Config.KeyField != "id" || d.Connect.Timeout != DefaultTimeout ||
		d.Config.VersionField != "_switchyard_version" || d.Config.DeletedField != "_switchyard_deleted" ||
		d.Config.UpdatedField != "_switchyard_updated_at" || d.Config.WaitTimeout != DefaultWaitTimeout || d.Config.Role != stores.RoleTarget {
		t.Fatalf("defaults = %+v, %v", d, err)
	}
	// New runs withDefaults again: what was named stays named.
	again, err := d.Config.withDefaults()
	if err != nil || len(again.unnamedBookkeeping()) != 4 {
		t.Fatalf("defaults applied twice: unnamed %v, %v", again.unnamedBookkeeping(), err)
	}
	d, err = ParseDSN("rethinkdb://localhost/app?role=source&wait=5s&updated_field=_u")
	if err != nil || d.Config.Role != stores.RoleSource || d.Config.WaitTimeout != 5*time.Second || d.Config.UpdatedField != "_u" {
		t.Fatalf("role, wait, updated_field = %+v, %v", d.Config, err)
	}
	d, err = ParseDSN("rethinkdb://db.example.net:28015/app?tls=true")
	if err != nil || d.Connect.TLSConfig == nil || d.Connect.TLSConfig.ServerName != "db.example.net" {
		t.Fatalf("tls = %+v, %v", d.Connect.TLSConfig, err)
	}
}

// TestOpenRoleRefusesAContradictingDSN: a DSN that names one role cannot be
// opened in the other (checked before connecting).
func TestOpenRoleRefusesAContradictingDSN(t *testing.T) {
	_, err := OpenRole(context.Background(), "rethinkdb://127.0.0.1:1/app?role=target", stores.RoleSource)
	if !errors.Is(err, ErrBadDSN) || !strings.Contains(err.Error(), "opened as source") {
		t.Fatalf("OpenRole = %v, want ErrBadDSN naming both roles", err)
	}
}

func TestParseDSNErrors(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"postgres://h/app":                     "want rethinkdb://",
		"rethinkdb://u:secret@h":               "no database",
		"rethinkdb://u:secret@h:99999/app":     "not host[:port]",
		"rethinkdb://u:secret@h,/app":          "empty host",
		"rethinkdb://h/app?pool=0":             "pool=",
		"rethinkdb://h/app?timeout=soon":       "timeout=",
		"rethinkdb://h/app?tls=maybe":          "tls=",
		"rethinkdb://h/app?colour=red":         `unknown parameter "colour"`,
		"rethinkdb://h/app?key_field=a.b":      "key_field=",
		"rethinkdb://h/my-app":                 "database",
		"rethinkdb://h/app?ca=" + notPEM:       "no PEM certificate",
		"rethinkdb://h/app?ca=/does/not/exist": "ca:",
		"rethinkdb://h/app?role=admin":         "role",
		"rethinkdb://h/app?wait=0s":            "wait=",
		"rethinkdb://h/app?updated_field=id":   "both name",
	}
	for dsn, want := range cases {
		_, err := ParseDSN(dsn)
		if !errors.Is(err, ErrBadDSN) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDSN(%q) = %v, want ErrBadDSN mentioning %q", dsn, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseDSN(%q) leaks the password: %v", dsn, err)
		}
	}
}
