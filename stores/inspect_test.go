package stores_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/stores"
)

type inspector []stores.Check

func (in inspector) Inspect(context.Context, stores.Role) []stores.Check { return in }

func TestRequireRole(t *testing.T) {
	ctx := context.Background()
	if checks, err := stores.RequireRole(ctx, struct{}{}, stores.RoleTarget, "x:"); checks != nil || err != nil {
		t.Fatalf("a store without an Inspector: %v, %v", checks, err)
	}
	ok := inspector{{Name: "connect", Status: stores.CheckPass}, {Name: "permissions", Status: stores.CheckWarn, Detail: "could write"}}
	if checks, err := stores.RequireRole(ctx, ok, stores.RoleSource, "x:"); len(checks) != 2 || err != nil {
		t.Fatalf("passing checks with a warning: %v, %v", checks, err)
	}
	bad := inspector{{Name: "connect", Status: stores.CheckPass},
		{Name: "server_version", Status: stores.CheckFail, Detail: "too old"},
		{Name: "permissions", Status: stores.CheckFail, Detail: "may only read"}}
	_, err := stores.RequireRole(ctx, bad, stores.RoleTarget, "postgres://app:hunter2@db/app")
	var ie *stores.InspectError
	if !errors.As(err, &ie) || !errors.Is(err, stores.ErrInspectFailed) || len(ie.Failed) != 2 || ie.Role != stores.RoleTarget {
		t.Fatalf("failing checks: %#v", err)
	}
	msg := err.Error()
	for _, want := range []string{"target store postgres://app:xxxxx@db/app", "server_version: too old", "permissions: may only read"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Fatalf("error %q prints the password", msg)
	}
}
