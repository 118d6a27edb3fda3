package main

import (
	"time"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/migrator"
)

// registerControlPlaneFlags binds the names of the control plane's
// buckets and audit stream to cfg; migrationHelp describes
// --migration-bucket.
func registerControlPlaneFlags(fs *cli.FlagSet, cfg *controlplane.Config, migrationHelp string) {
	fs.StringVar(&cfg.FlagsBucket, "flags-bucket", flags.DefaultBucket, "key-value bucket of the read flags")
	fs.StringVar(&cfg.AuditStream, "audit-stream", controlplane.DefaultAuditStream, "stream the changes are appended to")
	fs.StringVar(&cfg.ShadowBucket, "shadow-bucket", controlplane.DefaultShadowBucket, "key-value bucket of the shadow read counters")
	fs.StringVar(&cfg.ClientsBucket, "clients-bucket", controlplane.DefaultClientsBucket, "key-value bucket of the clients read routers served")
	fs.StringVar(&cfg.MigrationBucket, "migration-bucket", migrator.DefaultBucket, migrationHelp)
}

// gateFlags are the promotion gates' thresholds, shared by the flags
// command and the console. Lowering one below its default is allowed but
// makes every move onto the target a forced change (the gate-thresholds
// condition fails), so it is never silent.
type gateFlags struct {
	minShadowReads int64
	minShadowKeys  int
	minShadowSpan  time.Duration
}

func (g *gateFlags) register(fs *cli.FlagSet) {
	fs.Int64Var(&g.minShadowReads, "min-shadow-reads", flags.DefaultMinShadowReads, "compared shadow reads, all matching, a client needs before moving to target; lower (negative: off) only with --force, audited as forced")
	fs.IntVar(&g.minShadowKeys, "min-shadow-keys", flags.DefaultMinShadowKeys, "distinct keys those shadow reads must cover; lower (negative: off) only with --force, audited as forced")
	fs.DurationVar(&g.minShadowSpan, "min-shadow-span", flags.DefaultMinShadowSpan, "time from a client's first to its last compared shadow read; lower (negative: off) only with --force, audited as forced")
}

// apply sets the thresholds of the control plane's gates.
func (g *gateFlags) apply(cfg *controlplane.Config) {
	cfg.MinShadowReads, cfg.MinShadowKeys, cfg.MinShadowSpan = g.minShadowReads, g.minShadowKeys, g.minShadowSpan
}
