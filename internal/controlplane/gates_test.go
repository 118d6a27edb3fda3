package controlplane_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/testenv"
	"github.com/switchyard/switchyard/migrator"
)

func TestGatesWithoutVerify(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	state, err := migrator.OpenState(ctx, js, "")
	if err != nil {
		t.Fatal(err)
	}
	ok, detail, err := controlplane.Gates{State: state}.ClientVerifyClean(ctx, "acme")
	if err != nil || ok || !strings.Contains(detail, "no verify") {
		t.Fatalf("no verify yet: %v %q %v", ok, detail, err)
	}
}
