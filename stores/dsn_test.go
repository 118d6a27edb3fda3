package stores

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestOpenKeepsTheErrorChainAndHidesTheSecret(t *testing.T) {
	adapters := Adapters{{Scheme: "failing-test", Open: func(ctx context.Context, dsn string, _ Role) (Store, error) {
		return nil, Transient(fmt.Errorf("dial %s: connection refused", dsn))
	}}}
	t.Setenv("SY_TEST_PW", "hunter2")
	_, err := adapters.Open(context.Background(), "failing-test://user:${env:SY_TEST_PW}@db:1/x")
	if err == nil {
		t.Fatal("Open succeeded")
	}
	if !IsTransient(err) {
		t.Errorf("Open lost the adapter's error chain: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open's error shows the password: %v", err)
	}
	if _, err := adapters.Open(context.Background(), "nosuch://x"); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v", err)
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"sqlserver://sa:pw@h:1433?database=x":           "sqlserver://sa:xxxxx@h:1433?database=x",
		"postgres://h/db?password=secret&x=1":           "postgres://h/db?password=xxxxx&x=1",
		"sqlite:/tmp/a.db":                              "sqlite:/tmp/a.db",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOpenRolePassesTheRole: OpenRole hands the role to an adapter that
// has a RoleOpener, Open hands it "" (the adapter's default),
// and an unknown role is refused before any adapter runs.
func TestOpenRolePassesTheRole(t *testing.T) {
	var got []Role
	adapters := Adapters{{Scheme: "role-test", Open: func(ctx context.Context, dsn string, role Role) (Store, error) {
		got = append(got, role)
		return nil, errors.New("not a real store")
	}}}
	ctx := context.Background()
	_, _ = adapters.OpenRole(ctx, "role-test://x", RoleSource)
	_, _ = adapters.OpenRole(ctx, "role-test://x", RoleTarget)
	_, _ = adapters.Open(ctx, "role-test://x")
	if _, err := adapters.OpenRole(ctx, "role-test://x", Role("admin")); err == nil {
		t.Fatal("OpenRole accepted an unknown role")
	}
	if fmt.Sprint(got) != fmt.Sprint([]Role{RoleSource, RoleTarget, ""}) {
		t.Fatalf("roles passed = %q", got)
	}
}
