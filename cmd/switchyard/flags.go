package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/controlplane"
	"github.com/switchyard/switchyard/internal/jsdeclare"
	"github.com/switchyard/switchyard/migrator"
)

const flagsUsage = `flags init [--replicas N]
       flags get [--client C] | list [--search Q] [--stage S]
       flags set --client C[,D...] --stage S --reason R [--force] [--expect-revision N]
       flags set --percentage P --stage S --reason R [--force]
       flags clear --client C --reason R [--force]
       flags default --stage S --reason R [--force]
       flags history [--client C] | audit [--client C] [--limit N] [--before SEQ]
       flags reset-shadow --client C --reason R

Reads and changes the read stages in the flag bucket. Stages: legacy,
shadow, target-shadow, target. A client's stage comes from its override,
else from the percentage rollout, else from the default.

Every change needs --reason and records who made it in the override, its
history and the audit stream: the user the NATS server authenticated the
connection as (nats:NAME; from --nats-creds, --nats-nkey or the URL's user),
else the operating system user (os:NAME). --actor only adds a note to it. Moves onto the target
store pass the promotion gates (backfill complete, the client's verify
clean, its shadow reads all matching) or need --force, which the audit log
records with the failing conditions. Rollbacks are never gated.

flags init, and every change, create the buckets and the audit stream
when missing, with --replicas; existing ones are never changed. get, list,
history and audit create nothing.

See docs/flags.md.`

// flagsFlags are the connection and bucket flags every flags subcommand
// takes.
type flagsFlags struct {
	nats            cli.NATSFlags
	bucket          string
	auditStream     string
	shadowBucket    string
	clientsBucket   string
	migrationBucket string
	gates           gateFlags
	json            bool
	protectAudit    bool
	logFormat       string
	logLevel        string
	// flushInterval is how often the read API writes shadow counters and
	// seen clients; zero means the default.
	flushInterval time.Duration
	// create: the command creates the control plane's buckets and audit
	// stream when missing, with replicas; others only open what exists.
	create   bool
	replicas int
	// longRunning commands (read-api) keep retrying while NATS is down;
	// one-shot ones fail within the connect timeout.
	longRunning bool
}

// creates makes the command create what is missing, with --replicas.
func (f *flagsFlags) creates(fs *cli.FlagSet) {
	f.create = true
	fs.IntVar(&f.replicas, "replicas", 1, "copies of the buckets and audit stream this command creates when missing (1, 3 or 5); existing ones are left as they are")
}

// createControlPlaneHint says which commands create the control plane.
const createControlPlaneHint = "run switchyard flags init (or any flags change) to create it"

// openControlPlane opens the control plane. A missing bucket or stream
// fails a one-shot command at once, saying which command creates it; a
// long-running one (console, read-api) logs that and waits for it, so it
// may start before the control plane is created, until ctx ends.
func openControlPlane(ctx context.Context, js jetstream.JetStream, wait bool, log *slog.Logger, cfg controlplane.Config) (*controlplane.ControlPlane, error) {
	delay := 250 * time.Millisecond
	for {
		cp, err := controlplane.Open(ctx, js, cfg)
		if err == nil {
			return cp, nil
		}
		err = explainMissing(err, createControlPlaneHint)
		if !wait || !errors.Is(err, jsdeclare.ErrMissing) {
			return nil, err
		}
		log.Warn("waiting for the control plane", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (stopped waiting: %w)", err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// explainMissing adds to a missing bucket or stream which command creates
// it.
func explainMissing(err error, hint string) error {
	if errors.Is(err, jsdeclare.ErrMissing) {
		return fmt.Errorf("%w: %s", err, hint)
	}
	return err
}

func (f *flagsFlags) register(fs *cli.FlagSet, logLevel string) {
	f.nats.Register(fs)
	fs.StringVar(&f.bucket, "flags-bucket", flags.DefaultBucket, "key-value bucket of the read flags")
	fs.StringVar(&f.auditStream, "audit-stream", "SWITCHYARD_AUDIT", "stream the changes are appended to")
	fs.StringVar(&f.shadowBucket, "shadow-bucket", "switchyard_shadow", "key-value bucket of the shadow read counters")
	fs.StringVar(&f.clientsBucket, "clients-bucket", "switchyard_clients", "key-value bucket of the clients read routers served")
	fs.StringVar(&f.migrationBucket, "migration-bucket", migrator.DefaultBucket, "key-value bucket of the migration state (gates)")
	fs.BoolVar(&f.protectAudit, "protect-audit-stream", false, "turn on deny-delete and deny-purge on an existing audit stream that lacks them (irreversible; new streams always have them)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", logLevel, "log level: debug, info, warn or error")
}

// flagsEnv is what the flags subcommands and the read API open.
type flagsEnv struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	log      *slog.Logger
	store    *flags.Store
	audit    *flags.AuditLog
	shadow   *flags.ShadowStats
	samples  *flags.ShadowSamples
	registry *flags.Registry
}

func (e *flagsEnv) close() { e.nc.Close() }

// open connects and opens the control plane: the buckets, the audit stream
// and the gates' migration state.
func (f *flagsFlags) open(ctx context.Context, name string, stderr io.Writer) (*flagsEnv, error) {
	log, err := cli.NewLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return nil, err
	}
	if f.create && (f.replicas < 1 || f.replicas > 5) {
		return nil, cli.Usagef("--replicas %d must be 1 to 5", f.replicas)
	}
	f.nats.Name = "switchyard " + name
	connect := f.nats.Connect
	if f.longRunning {
		connect = f.nats.ConnectWithRetry
	}
	nc, js, err := connect(ctx, log)
	if err != nil {
		return nil, err
	}
	cp, err := openControlPlane(ctx, js, f.longRunning, log, controlplane.Config{
		Replicas:        f.replicas,
		MustExist:       !f.create,
		MigrationBucket: f.migrationBucket,
		FlagsBucket:     f.bucket,
		AuditStream:     f.auditStream,
		ShadowBucket:    f.shadowBucket,
		ClientsBucket:   f.clientsBucket,
		MinShadowReads:  f.gates.minShadowReads,
		MinShadowKeys:   f.gates.minShadowKeys,
		MinShadowSpan:   f.gates.minShadowSpan,
		FlushInterval:   f.flushInterval,
		ProtectAudit:    f.protectAudit,
		Log:             log,
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &flagsEnv{nc: nc, js: js, log: log, store: cp.Flags, audit: cp.Audit, shadow: cp.Shadow, samples: cp.Samples, registry: cp.Registry}, nil
}

func runFlags(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, rest, err := splitAction("flags", flagsUsage, "init, get, list, set, clear, default, history, audit or reset-shadow", args, stdout)
	if err != nil {
		return err
	}
	switch sub {
	case "init":
		return flagsInit(ctx, rest, stdout, stderr)
	case "get":
		return flagsGet(ctx, rest, stdout, stderr)
	case "list":
		return flagsList(ctx, rest, stdout, stderr)
	case "set":
		return flagsSet(ctx, rest, stdout, stderr)
	case "clear":
		return flagsClear(ctx, rest, stdout, stderr)
	case "default":
		return flagsDefault(ctx, rest, stdout, stderr)
	case "history":
		return flagsHistory(ctx, rest, stdout, stderr)
	case "audit":
		return flagsAudit(ctx, rest, stdout, stderr)
	case "reset-shadow":
		return flagsResetShadow(ctx, rest, stdout, stderr)
	}
	return cli.Usagef("flags: unknown subcommand %q (init, get, list, set, clear, default, history, audit, reset-shadow)", sub)
}

// changeFlags are the flags of every change.
type changeFlags struct {
	reason string
	// note is --actor: a name added to the recorded identity, never
	// replacing it.
	note  string
	force bool
	// actor is what is recorded, set by resolveActor once connected.
	actor string
}

func (c *changeFlags) register(fs *cli.FlagSet) {
	fs.StringVar(&c.reason, "reason", "", "why the stage changes (required; kept in the audit log)")
	fs.StringVar(&c.note, "actor", "", "a name to note next to the recorded identity (the NATS user, else the OS user), such as who asked for the change")
	fs.BoolVar(&c.force, "force", false, "apply a move onto the target store although promotion gates fail")
}

func (c *changeFlags) check(cmd string) error {
	if strings.TrimSpace(c.reason) == "" {
		return cli.Usagef("%s: --reason is required: say why the stage changes", cmd)
	}
	if err := flags.ValidateReason(c.reason); err != nil {
		return cli.Usagef("%s: --%v", cmd, err)
	}
	if c.note != "" {
		if err := flags.ValidateActor(c.note); err != nil {
			return cli.Usagef("%s: --%v", cmd, err)
		}
	}
	return nil
}

// resolveActor sets the recorded actor: the identity of the connection's
// credentials (see cli.Identity), with the --actor note after it.
func (c *changeFlags) resolveActor(ctx context.Context, env *flagsEnv, natsURL string) error {
	id, err := cli.Identity(ctx, env.nc, natsURL)
	if err != nil {
		return err
	}
	c.actor = id
	if c.note != "" && c.note != id {
		c.actor = id + " (note: " + c.note + ")"
	}
	if err := flags.ValidateActor(c.actor); err != nil {
		return cli.Usagef("--%v", err)
	}
	return nil
}

func parseStageFlag(cmd, s string) (flags.Stage, error) {
	st, err := flags.ParseStage(s)
	if err != nil {
		return "", cli.Usagef("%s: --%v", cmd, err)
	}
	return st, nil
}

func newFlagsFlagSet(cmd, usage string, stderr io.Writer) (*cli.FlagSet, *flagsFlags) {
	fs := cli.NewFlagSet(cmd, usage, stderr)
	var f flagsFlags
	f.register(fs, "warn")
	f.gates.register(fs)
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
	return fs, &f
}

// flagsInit creates the control plane: the migration state, flag, shadow
// and clients buckets and the audit stream, with --replicas.
func flagsInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags init", "flags init [--replicas N]\n\nCreates what is missing of the control plane (the migration state, flag, shadow and clients buckets and the audit stream) with --replicas. Existing ones are left as they are.", stderr)
	f.creates(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	fmt.Fprintf(stdout, "control plane ready: buckets %s, %s, %s, %s; audit stream %s (created with %d replicas where missing)\n",
		f.migrationBucket, f.bucket, f.shadowBucket, f.clientsBucket, f.auditStream, f.replicas)
	return nil
}

func parseFlags(fs *cli.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return fs.NoArgs()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func flagsGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags get", "flags get [--client C[,D...]]\n\nShows the default stage, the rollout and the stage counts, or the effective stage of clients with where it comes from and their promotion gates.", stderr)
	var clients cli.StringList
	fs.Var(&clients, "client", "client id(s), comma-separated or repeated")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, c := range clients {
		if err := flags.ValidateClient(c); err != nil {
			return cli.Usagef("flags get: --%v", err)
		}
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if len(clients) == 0 {
		cfg, rev, err := env.store.Config(ctx)
		if err != nil {
			return err
		}
		counts, err := env.store.CountByStage(ctx)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(stdout, map[string]any{"config": cfg, "revision": rev, "known_clients_by_stage": counts})
		}
		fmt.Fprintf(stdout, "default stage:  %s\nrollout:        %s\nrevision:       %d\n", cfg.Default, rolloutText(cfg.Rollout), rev)
		if cfg.Actor != "" {
			fmt.Fprintf(stdout, "last change:    %s by %s: %s\n", cfg.UpdatedAt.Format(time.RFC3339), cfg.Actor, cfg.Reason)
		}
		fmt.Fprintln(stdout, "known clients by stage:")
		for _, st := range flags.Stages() {
			fmt.Fprintf(stdout, "  %-14s %d\n", st, counts[string(st)])
		}
		return nil
	}
	type clientOut struct {
		flags.ClientView
		Gates flags.GateStatus   `json:"gates"`
		Stats flags.ShadowCounts `json:"shadow"`
	}
	var out []clientOut
	for _, c := range clients {
		v, err := env.store.Client(ctx, c)
		if err != nil {
			return err
		}
		g, err := env.store.GateStatus(ctx, c)
		if err != nil {
			return err
		}
		s, err := env.shadow.ClientStats(ctx, c)
		if err != nil {
			return err
		}
		out = append(out, clientOut{ClientView: v, Gates: g, Stats: s})
	}
	if f.json {
		return printJSON(stdout, out)
	}
	for i, o := range out {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "client:    %s\nstage:     %s (%s)\nrevision:  %d\n", o.Client, o.Stage, o.Source, o.Revision)
		if ov := o.Override; ov != nil {
			forced := ""
			if ov.Forced {
				forced = " (forced past: " + strings.Join(ov.FailedGates, ", ") + ")"
			}
			fmt.Fprintf(stdout, "override:  set %s by %s: %s%s\n", ov.UpdatedAt.Format(time.RFC3339), ov.Actor, ov.Reason, forced)
		}
		fmt.Fprintf(stdout, "shadow:    %d compared, %d mismatched, %d errors, %d dropped, %d settled in flight, %d unsettled; target reads %d (%d failed)\n",
			o.Stats.Compared(), o.Stats.Mismatches, o.Stats.Errors, o.Stats.Dropped, o.Stats.Settled, o.Stats.Unsettled, o.Stats.TargetReads, o.Stats.TargetErrors)
		fmt.Fprintln(stdout, "gates:")
		for _, c := range o.Gates.Conditions {
			mark := "FAIL"
			if c.OK {
				mark = "ok"
			}
			fmt.Fprintf(stdout, "  %-4s %-18s %s\n", mark, c.Name, c.Detail)
		}
	}
	return nil
}

func rolloutText(r *flags.Rollout) string {
	if r == nil || r.BasisPoints == 0 {
		return "none"
	}
	return fmt.Sprintf("%g%% of clients without override to %s", r.Percentage(), r.Stage)
}

func flagsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags list", "flags list [--search Q] [--stage S] [--after C] [--limit N]\n\nLists known clients (with an override, or served by a read router) and their effective stage.", stderr)
	search := fs.String("search", "", "keep clients whose id contains this, ignoring case")
	stage := fs.String("stage", "", "keep clients in this stage")
	after := fs.String("after", "", "start after this client id (paging)")
	limit := fs.Int("limit", 100, "most clients to list (1..1000)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q := flags.ClientQuery{Search: *search, After: *after, Limit: *limit}
	if *stage != "" {
		st, err := parseStageFlag("flags list", *stage)
		if err != nil {
			return err
		}
		q.Stage = st
	}
	if *limit < 1 || *limit > 1000 {
		return cli.Usagef("flags list: --limit %d is outside 1..1000", *limit)
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	views, err := env.store.ListClients(ctx, q)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, views)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSTAGE\tSOURCE\tREVISION\tLAST SEEN")
	for _, v := range views {
		seen := "-"
		if !v.LastSeen.IsZero() {
			seen = v.LastSeen.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.Client, v.Stage, v.Source, v.Revision, seen)
	}
	return tw.Flush()
}

func flagsSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags set", "flags set --client C[,D...] --stage S --reason R [--force] [--expect-revision N]\n       flags set --percentage P --stage S --reason R [--force]\n\nSets the stage of clients (an override each), or the percentage of clients without override (chosen stably by id) that get the stage.", stderr)
	f.creates(fs)
	var clients cli.StringList
	fs.Var(&clients, "client", "client id(s), comma-separated or repeated")
	stageName := fs.String("stage", "", "legacy, shadow, target-shadow or target (required)")
	percentage := fs.String("percentage", "", "rollout share, 0 to 100 with up to two decimals (0 removes the rollout)")
	expect := fs.String("expect-revision", "", "fail unless the override (or, with --percentage, the configuration) is at this revision; 0 means none yet")
	var ch changeFlags
	ch.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	stage, err := parseStageFlag("flags set", *stageName)
	if err != nil {
		return err
	}
	if err := ch.check("flags set"); err != nil {
		return err
	}
	if (len(clients) == 0) == (*percentage == "") {
		return cli.Usagef("flags set: give either --client or --percentage")
	}
	expected := flags.AnyRevision
	if *expect != "" {
		n, err := strconv.ParseUint(*expect, 10, 64)
		if err != nil {
			return cli.Usagef("flags set: --expect-revision %q is not a revision number", *expect)
		}
		if len(clients) > 1 {
			return cli.Usagef("flags set: --expect-revision applies to one client, got %d", len(clients))
		}
		expected = n
	}
	for _, c := range clients {
		if err := flags.ValidateClient(c); err != nil {
			return cli.Usagef("flags set: --%v", err)
		}
	}
	var bp int
	if *percentage != "" {
		if bp, err = flags.ParsePercentage(*percentage); err != nil {
			return cli.Usagef("flags set: --%v", err)
		}
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if err := ch.resolveActor(ctx, env, f.nats.URL); err != nil {
		return err
	}
	if *percentage != "" {
		res, err := env.store.SetRollout(ctx, flags.ConfigChange{Stage: stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: expected, Force: ch.force}, bp)
		return reportChange(stdout, f.json, "rollout", res, err)
	}
	var failed, refused int
	var results []flags.ChangeResult
	for _, c := range clients {
		res, err := env.store.SetStage(ctx, flags.Change{Client: c, Stage: stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: expected, Force: ch.force})
		if err != nil {
			failed++
			if errors.Is(err, flags.ErrGateRefused) {
				refused++
			}
			fmt.Fprintf(stderr, "switchyard flags set: %s: %v\n", c, err)
			if errors.Is(err, flags.ErrAudit) {
				results = append(results, res) // applied, audit missing: still report it
			}
			continue
		}
		results = append(results, res)
		if !f.json {
			printChange(stdout, "client "+c, res)
		}
	}
	if f.json {
		if err := printJSON(stdout, results); err != nil {
			return err
		}
	}
	if failed > 0 && refused == failed {
		return cli.CheckFailedf("%d of %d clients not changed: promotion gates refused", failed, len(clients))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d clients not changed", failed, len(clients))
	}
	return nil
}

func printChange(w io.Writer, what string, res flags.ChangeResult) {
	forced := ""
	if res.Forced {
		forced = fmt.Sprintf(" (forced past %d failing gates)", len(res.FailedGates))
	}
	fmt.Fprintf(w, "%s: %s -> %s at revision %d, audit #%d%s\n", what, res.From, res.To, res.Revision, res.AuditSeq, forced)
}

func reportChange(w io.Writer, asJSON bool, what string, res flags.ChangeResult, err error) error {
	if err != nil && !errors.Is(err, flags.ErrAudit) {
		return err
	}
	if asJSON {
		if perr := printJSON(w, res); perr != nil {
			return perr
		}
	} else {
		printChange(w, what, res)
	}
	return err
}

func flagsClear(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags clear", "flags clear --client C --reason R [--force]\n\nRemoves a client's override: it follows the rollout or the default again.", stderr)
	f.creates(fs)
	client := fs.String("client", "", "client id (required)")
	var ch changeFlags
	ch.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := flags.ValidateClient(*client); err != nil {
		return cli.Usagef("flags clear: --%v", err)
	}
	if err := ch.check("flags clear"); err != nil {
		return err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if err := ch.resolveActor(ctx, env, f.nats.URL); err != nil {
		return err
	}
	res, err := env.store.ClearOverride(ctx, flags.Clear{Client: *client, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: flags.AnyRevision, Force: ch.force})
	return reportChange(stdout, f.json, "client "+*client, res, err)
}

func flagsDefault(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags default", "flags default --stage S --reason R [--force]\n\nSets the stage of clients without override outside the rollout.", stderr)
	f.creates(fs)
	stageName := fs.String("stage", "", "legacy, shadow, target-shadow or target (required)")
	var ch changeFlags
	ch.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	stage, err := parseStageFlag("flags default", *stageName)
	if err != nil {
		return err
	}
	if err := ch.check("flags default"); err != nil {
		return err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if err := ch.resolveActor(ctx, env, f.nats.URL); err != nil {
		return err
	}
	res, err := env.store.SetDefault(ctx, flags.ConfigChange{Stage: stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: flags.AnyRevision, Force: ch.force})
	return reportChange(stdout, f.json, "default", res, err)
}

func flagsHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags history", "flags history [--client C]\n\nShows the kept revisions of a client's override, or of the default and rollout configuration.", stderr)
	client := fs.String("client", "", "client id; without it, the configuration's history")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *client != "" {
		if err := flags.ValidateClient(*client); err != nil {
			return cli.Usagef("flags history: --%v", err)
		}
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if *client == "" {
		revs, err := env.store.ConfigHistory(ctx)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(stdout, revs)
		}
		fmt.Fprintln(tw, "REVISION\tTIME\tDEFAULT\tROLLOUT\tACTOR\tREASON")
		for _, r := range revs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Revision, r.Time.Format(time.RFC3339), r.Config.Default, rolloutText(r.Config.Rollout), r.Config.Actor, r.Config.Reason)
		}
		return tw.Flush()
	}
	hist, err := env.store.History(ctx, *client)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, hist)
	}
	fmt.Fprintln(tw, "REVISION\tTIME\tSTAGE\tACTOR\tFORCED\tREASON")
	for _, h := range hist {
		if h.Cleared {
			fmt.Fprintf(tw, "%d\t%s\t(cleared)\t\t\t\n", h.Revision, h.Time.Format(time.RFC3339))
			continue
		}
		o := h.Override
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\n", h.Revision, h.Time.Format(time.RFC3339), o.Stage, o.Actor, o.Forced, o.Reason)
	}
	return tw.Flush()
}

func flagsAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags audit", "flags audit [--client C] [--limit N] [--before SEQ]\n\nShows the audit log, newest first: who changed what, when, from, to and why.", stderr)
	client := fs.String("client", "", "only this client's changes")
	limit := fs.Int("limit", 50, "most entries to show (1..1000)")
	before := fs.Uint64("before", 0, "only entries older than this sequence (paging)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *client != "" {
		if err := flags.ValidateClient(*client); err != nil {
			return cli.Usagef("flags audit: --%v", err)
		}
	}
	if *limit < 1 || *limit > 1000 {
		return cli.Usagef("flags audit: --limit %d is outside 1..1000", *limit)
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	entries, err := env.audit.List(ctx, flags.AuditQuery{Client: *client, Limit: *limit, Before: *before})
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, entries)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tSCOPE\tCLIENT\tFROM\tTO\tFORCED\tREASON")
	for _, e := range entries {
		forced := ""
		if e.Forced {
			forced = "yes: " + strings.Join(e.FailedGates, "; ")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Actor, e.Scope, e.Client, e.From, e.To, forced, e.Reason)
	}
	return tw.Flush()
}

func flagsResetShadow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags reset-shadow", "flags reset-shadow --client C --reason R\n\nForgets a client's shadow read counters in every router, so the shadow gate counts from zero again (after its mismatches were repaired). Recorded in the audit log.", stderr)
	f.creates(fs)
	client := fs.String("client", "", "client id (required)")
	var ch changeFlags
	ch.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := flags.ValidateClient(*client); err != nil {
		return cli.Usagef("flags reset-shadow: --%v", err)
	}
	if err := ch.check("flags reset-shadow"); err != nil {
		return err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if err := ch.resolveActor(ctx, env, f.nats.URL); err != nil {
		return err
	}
	seq, err := env.store.ResetShadowStats(ctx, *client, ch.reason, ch.actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "client %s: shadow counters reset, audit #%d\n", *client, seq)
	return nil
}
