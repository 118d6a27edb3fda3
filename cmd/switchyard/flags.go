package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/internal/cli"
)

var flagsUsage = usageText("flags")

func runFlags(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, rest, err := splitAction("flags", flagsUsage, "init, get, list, set, clear, default, history, audit or reset-shadow", args, stdout)
	if err != nil {
		return err
	}
	action, ok := flagsActions[sub]
	if !ok {
		return cli.Usagef("flags: unknown subcommand %q (init, get, list, set, clear, default, history, audit, reset-shadow)", sub)
	}
	return action(ctx, rest, stdout, stderr)
}

// flagsActions are the actions of the flags command.
var flagsActions = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"init": flagsInit, "get": flagsGet, "list": flagsList, "set": flagsSet, "clear": flagsClear,
	"default": flagsDefault, "history": flagsHistory, "audit": flagsAudit, "reset-shadow": flagsResetShadow,
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

// openChange checks the change flags, opens the control plane and
// resolves the actor; the caller closes the environment.
func (c *changeFlags) openChange(ctx context.Context, cmd string, f *flagsFlags, stderr io.Writer) (*flagsEnv, error) {
	if err := c.check(cmd); err != nil {
		return nil, err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return nil, err
	}
	if err := c.resolveActor(ctx, env, f.nats.URL); err != nil {
		env.close()
		return nil, err
	}
	return env, nil
}

func parseStageFlag(cmd, s string) (flags.Stage, error) {
	st, err := flags.ParseStage(s)
	if err != nil {
		return "", cli.Usagef("%s: --%v", cmd, err)
	}
	return st, nil
}

// validClients refuses a malformed client id; an empty one means no
// client was given (an optional --client).
func validClients(cmd string, clients ...string) error {
	for _, c := range clients {
		if err := flags.ValidateClient(c); c != "" && err != nil {
			return cli.Usagef("%s: --%v", cmd, err)
		}
	}
	return nil
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
		f.cp.MigrationBucket, f.bucket, f.cp.ShadowBucket, f.cp.ClientsBucket, f.cp.AuditStream, f.cp.Replicas)
	return nil
}

func flagsGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags get", "flags get [--client C[,D...]]\n\nShows the default stage, the rollout and the stage counts, or the effective stage of clients with where it comes from and their promotion gates.", stderr)
	var clients cli.StringList
	fs.Var(&clients, "client", "client id(s), comma-separated or repeated")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := validClients("flags get", clients...); err != nil {
		return err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if len(clients) == 0 {
		o, err := env.store.Overview(ctx)
		if err != nil {
			return err
		}
		return printResult(stdout, f.json, o, o.WriteText)
	}
	var out flags.ClientReports
	for _, c := range clients {
		r, err := clientReport(ctx, env, c)
		if err != nil {
			return err
		}
		out = append(out, r)
	}
	return printResult(stdout, f.json, out, out.WriteText)
}

// clientReport gathers a client's stage, gates and shadow counters.
func clientReport(ctx context.Context, env *flagsEnv, client string) (r flags.ClientReport, err error) {
	if r.ClientView, err = env.store.Client(ctx, client); err != nil {
		return r, err
	}
	if r.Gates, err = env.store.GateStatus(ctx, client); err != nil {
		return r, err
	}
	r.Stats, err = env.shadow.ClientStats(ctx, client)
	return r, err
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
	return printResult(stdout, f.json, views, func(w io.Writer) error { return flags.WriteClientTable(w, views) })
}

// setRequest is what flags set was asked to do, checked.
type setRequest struct {
	clients  []string
	stage    flags.Stage
	expected uint64
	// basisPoints is the rollout share when rollout is true.
	rollout     bool
	basisPoints int
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
	req, err := checkSet(clients, *stageName, *percentage, *expect, &ch)
	if err != nil {
		return err
	}
	env, err := ch.openChange(ctx, "flags set", f, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if req.rollout {
		res, err := env.store.SetRollout(ctx, flags.ConfigChange{Stage: req.stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: req.expected, Force: ch.force}, req.basisPoints)
		return reportChange(stdout, f.json, "rollout", res, err)
	}
	change := flags.Change{Stage: req.stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: req.expected, Force: ch.force}
	results, err := env.store.SetStages(ctx, req.clients, change, func(c string, res flags.ChangeResult, err error) {
		if err != nil {
			fmt.Fprintf(stderr, "switchyard flags set: %s: %v\n", c, err)
		} else if !f.json {
			res.WriteText(stdout, "client "+c)
		}
	})
	if f.json {
		if jerr := writeIndentedJSON(stdout, results); jerr != nil {
			return jerr
		}
	}
	return err
}

// checkSet checks the flags of flags set in the order they are reported.
func checkSet(clients []string, stageName, percentage, expect string, ch *changeFlags) (req setRequest, err error) {
	if req.stage, err = parseStageFlag("flags set", stageName); err != nil {
		return req, err
	}
	if err := ch.check("flags set"); err != nil {
		return req, err
	}
	if (len(clients) == 0) == (percentage == "") {
		return req, cli.Usagef("flags set: give either --client or --percentage")
	}
	req.clients, req.expected, req.rollout = clients, flags.AnyRevision, percentage != ""
	if expect != "" {
		n, err := strconv.ParseUint(expect, 10, 64)
		if err != nil {
			return req, cli.Usagef("flags set: --expect-revision %q is not a revision number", expect)
		}
		if len(clients) > 1 {
			return req, cli.Usagef("flags set: --expect-revision applies to one client, got %d", len(clients))
		}
		req.expected = n
	}
	if err := validClients("flags set", clients...); err != nil {
		return req, err
	}
	if req.rollout {
		if req.basisPoints, err = flags.ParsePercentage(percentage); err != nil {
			return req, cli.Usagef("flags set: --%v", err)
		}
	}
	return req, nil
}

// reportChange prints an applied change (also one the audit log missed)
// and returns err.
func reportChange(w io.Writer, asJSON bool, what string, res flags.ChangeResult, err error) error {
	if err != nil && !errors.Is(err, flags.ErrAudit) {
		return err
	}
	if perr := printResult(w, asJSON, res, func(w io.Writer) error { return res.WriteText(w, what) }); perr != nil && asJSON {
		return perr
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
	env, err := ch.openChange(ctx, "flags clear", f, stderr)
	if err != nil {
		return err
	}
	defer env.close()
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
	env, err := ch.openChange(ctx, "flags default", f, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	res, err := env.store.SetDefault(ctx, flags.ConfigChange{Stage: stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: flags.AnyRevision, Force: ch.force})
	return reportChange(stdout, f.json, "default", res, err)
}

func flagsHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags history", "flags history [--client C]\n\nShows the kept revisions of a client's override, or of the default and rollout configuration.", stderr)
	client := fs.String("client", "", "client id; without it, the configuration's history")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := validClients("flags history", *client); err != nil {
		return err
	}
	env, err := f.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if *client == "" {
		revs, err := env.store.ConfigHistory(ctx)
		if err != nil {
			return err
		}
		return printResult(stdout, f.json, revs, func(w io.Writer) error { return flags.WriteConfigHistory(w, revs) })
	}
	hist, err := env.store.History(ctx, *client)
	if err != nil {
		return err
	}
	return printResult(stdout, f.json, hist, func(w io.Writer) error { return flags.WriteHistory(w, hist) })
}

func flagsAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newFlagsFlagSet("flags audit", "flags audit [--client C] [--limit N] [--before SEQ]\n\nShows the audit log, newest first: who changed what, when, from, to and why.", stderr)
	client := fs.String("client", "", "only this client's changes")
	limit := fs.Int("limit", 50, "most entries to show (1..1000)")
	before := fs.Uint64("before", 0, "only entries older than this sequence (paging)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := validClients("flags audit", *client); err != nil {
		return err
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
	return printResult(stdout, f.json, entries, func(w io.Writer) error { return flags.WriteAuditTable(w, entries) })
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
	env, err := ch.openChange(ctx, "flags reset-shadow", f, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	seq, err := env.store.ResetShadowStats(ctx, *client, ch.reason, ch.actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "client %s: shadow counters reset, audit #%d\n", *client, seq)
	return nil
}
