package migrator

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestValidateNamesTheFlag: each refused setting is a *ConfigError that
// names the command and its flag; the defaults pass.
func TestValidateNamesTheFlag(t *testing.T) {
	backfill := func(change func(*BackfillConfig)) error {
		c := BackfillConfig{ChunkRows: DefaultChunkRows, BatchRows: DefaultBatchRows, Copiers: DefaultCopiers,
			AckWait: DefaultChunkAckWait, TargetConsumer: DefaultTargetConsumer, LegacyConsumer: DefaultLegacyConsumer}
		change(&c)
		return c.Validate()
	}
	verify := func(change func(*VerifyConfig)) error {
		c := VerifyConfig{ChunkRows: DefaultVerifyChunkRows, SettleTimeout: DefaultSettleTimeout, TargetConsumer: DefaultTargetConsumer, FindingsFile: "f.jsonl"}
		change(&c)
		return c.Validate()
	}
	cleanup := func(change func(*GatedCleanup)) error {
		g := GatedCleanup{Config: CleanupConfig{LegacyConsumer: DefaultLegacyConsumer, MaxVerifyAge: DefaultMaxVerifyAge}}
		change(&g)
		return g.Validate()
	}
	cases := []struct {
		err  error
		want string
	}{
		{backfill(func(*BackfillConfig) {}), ""},
		{backfill(func(c *BackfillConfig) { c.ChunkRows = 0 }), "backfill: --chunk must be at least 1, got 0"},
		{backfill(func(c *BackfillConfig) { c.Copiers = 65 }), "backfill: --copiers must be between 1 and 64, got 65"},
		{backfill(func(c *BackfillConfig) { c.AckWait = time.Millisecond }), "backfill: --max-latency must not be negative and --ack-wait must be at least 1s"},
		{backfill(func(c *BackfillConfig) { c.LegacyConsumer = "" }), "backfill: --legacy-consumer is required unless --no-watermark-wait"},
		{backfill(func(c *BackfillConfig) { c.LegacyConsumer, c.SkipWatermarkWait = "", true }), ""},
		{verify(func(*VerifyConfig) {}), ""},
		{verify(func(c *VerifyConfig) { c.SettleTimeout = 0 }), "verify: --settle-timeout must be positive, got 0s"},
		{verify(func(c *VerifyConfig) { c.FindingsFile = "" }), "verify: --out is required (a file for the findings)"},
		{cleanup(func(*GatedCleanup) {}), ""},
		{cleanup(func(g *GatedCleanup) { g.Config.Force = true }), "cleanup: --force requires --reason (it is recorded)"},
		{cleanup(func(g *GatedCleanup) { g.Config.Force, g.Config.Reason, g.CheckOnly = true, "r", true }), "cleanup: --force and --check exclude each other"},
	}
	for i, c := range cases {
		switch {
		case c.want == "" && c.err != nil:
			t.Errorf("case %d: %v", i, c.err)
		case c.want != "" && (!errors.Is(c.err, ErrConfig) || c.err.Error() != c.want):
			t.Errorf("case %d: got %v, want %q", i, c.err, c.want)
		}
	}
}

func TestParseBackfillRate(t *testing.T) {
	if n, err := ParseBackfillRate([]string{"250"}); n != 250 || err != nil {
		t.Fatalf("250: %d %v", n, err)
	}
	for _, args := range [][]string{nil, {"1", "2"}, {"-3"}, {"fast"}} {
		if _, err := ParseBackfillRate(args); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestControlBackfillActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := e.state.ControlBackfill(ctx, BackfillAction{Action: "pause", Reason: "maintenance"})
	if err != nil || !c.Paused || c.Reason != "maintenance" {
		t.Fatalf("pause: %+v %v", c, err)
	}
	if c, err = e.state.ControlBackfill(ctx, BackfillAction{Action: "rate", MaxRate: 300}); err != nil || !c.Paused || c.MaxRate != 300 {
		t.Fatalf("rate: %+v %v", c, err)
	}
	if c, err = e.state.ControlBackfill(ctx, BackfillAction{Action: "resume"}); err != nil || c.Paused || c.MaxRate != 300 {
		t.Fatalf("resume: %+v %v", c, err)
	}
	if _, err := e.state.ControlBackfill(ctx, BackfillAction{Action: "stop"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("unknown action: %v", err)
	}
}
