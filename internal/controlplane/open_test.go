package controlplane_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/jsdeclare"
	"github.com/switchyard/switchyard/internal/testenv"
)

func TestOpenSaysWhatCreatesAMissingPart(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	for parts, hint := range map[controlplane.Parts]string{
		controlplane.AllParts:           controlplane.CreateHint,
		controlplane.StateOnly:          controlplane.CreateStateHint,
		controlplane.StateAndReadStages: controlplane.CreateStateHint,
	} {
		_, err := controlplane.Open(ctx, js, controlplane.Config{Parts: parts, MustExist: true})
		if !errors.Is(err, jsdeclare.ErrMissing) || !strings.HasSuffix(err.Error(), hint) {
			t.Errorf("parts %d on an empty server: %v, want a missing part and %q", parts, err, hint)
		}
	}

	// Waiting ends with ctx, saying what it waited for.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := controlplane.Open(wctx, js, controlplane.Config{MustExist: true, Wait: true})
	if !errors.Is(err, jsdeclare.ErrMissing) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), controlplane.CreateHint) {
		t.Fatalf("waiting for a missing control plane: %v", err)
	}
}

func TestOpenReadStagesOnlyWhenFlagsAreInUse(t *testing.T) {
	ctx := context.Background()
	_, js := testenv.NATS(t).Connect()
	cp, err := controlplane.Open(ctx, js, controlplane.Config{Parts: controlplane.StateAndReadStages, FlagsBucket: flags.DefaultBucket})
	if err != nil || cp.State == nil || cp.Flags != nil || cp.ReadStages() != nil {
		t.Fatalf("without a flag bucket: %+v %v, want the state and no read stages", cp, err)
	}

	all, err := controlplane.Open(ctx, js, controlplane.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := all.Flags.SetStage(ctx, flags.Change{Client: "acme", Stage: flags.StageShadow, Reason: "pilot", Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	cp, err = controlplane.Open(ctx, js, controlplane.Config{Parts: controlplane.StateAndReadStages, FlagsBucket: flags.DefaultBucket, MustExist: true})
	if err != nil || cp.ReadStages() == nil {
		t.Fatalf("with the flag bucket: %+v %v", cp, err)
	}
	counts, err := cp.ReadStages().CountByStage(ctx)
	if err != nil || counts[string(flags.StageShadow)] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
	if cp, err := controlplane.Open(ctx, js, controlplane.Config{Parts: controlplane.StateAndReadStages}); err != nil || cp.Flags != nil {
		t.Fatalf("an empty flag bucket name means flags are not in use: %+v %v", cp, err)
	}
}
