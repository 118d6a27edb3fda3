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
	sub, rest, err := cli.SplitAction("flags", flagsUsage, "init, get, list, set, clear, default, history, audit or reset-shadow", args, stdout)
	if err != nil {
		return err
	}
	action, ok := flagsActions[sub]
	if !ok {
		return cli.Usagef("flags: unknown subcommand %q (init, get, list, set, clear, default, history, audit, reset-shadow)", sub)
	}
	return action.run(ctx, sub, rest, stdout, stderr)
}

// flagsAction is one action of the flags command: the flags it takes
// besides the connection's and the one call it makes. Its help text is
// usage/flags-NAME.txt.
type flagsAction struct {
	// creates: the action creates what is missing of the control plane,
	// with --replicas. change: it changes something, with --reason,
	// --actor and --force, recording who; the stage and the one --client
	// it takes are then required.
	creates, change bool
	// clients: it takes --client as a list; client and stage: the help of
	// its one --client and of --stage, empty when it takes none.
	clients       bool
	client, stage string
	// flags registers its other flags; check checks them after --stage.
	flags func(fs *cli.FlagSet, c *flagsCall)
	check func(cmd string, c *flagsCall) error
	call  func(ctx context.Context, c *flagsCall) error
}

// flagsCall is what an action works with: the action's own flags (each
// action registers those it takes; expected and basisPoints are what the
// checks parsed), the connection and bucket flags (opts), the opened
// control plane and the output.
type flagsCall struct {
	clients                                          cli.StringList
	client, stage, percentage, expect, search, after string
	limit                                            int
	before, expected                                 uint64
	basisPoints                                      int
	// reason, note (--actor) and force are a change's flags; actor is
	// who is recorded, set by resolveActor once connected.
	reason, note, actor string
	force               bool
	opts                *flagsFlags
	*migrationEnv
	stdout, stderr io.Writer
}

// stageHelp is the help of a required --stage.
const stageHelp = "legacy, shadow, target-shadow or target (required)"

// flagsActions are the actions of the flags command.
var flagsActions = map[string]flagsAction{
	"init":         {creates: true, call: flagsInit},
	"get":          {clients: true, call: flagsGet},
	"list":         {stage: "keep clients in this stage", flags: listFlags, call: flagsList},
	"set":          {creates: true, change: true, clients: true, stage: stageHelp, flags: setFlags, check: checkSet, call: flagsSet},
	"clear":        {creates: true, change: true, client: "client id (required)", call: flagsClear},
	"default":      {creates: true, change: true, stage: stageHelp, call: flagsDefault},
	"history":      {client: "client id; without it, the configuration's history", call: flagsHistory},
	"audit":        {client: "only this client's changes", flags: auditFlags, call: flagsAudit},
	"reset-shadow": {creates: true, change: true, client: "client id (required)", call: flagsResetShadow},
}

// run parses and checks the action's flags, opens the control plane,
// resolves who makes a change and makes the action's call.
func (a flagsAction) run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	cmd := "flags " + name
	fs := cli.NewFlagSet(cmd, usageText("flags-"+name), stderr)
	c := &flagsCall{opts: &flagsFlags{}, stdout: stdout, stderr: stderr}
	a.register(fs, c)
	if err := fs.ParseFlags(args); err != nil {
		return err
	}
	if err := a.checkArgs(cmd, c, fs.Lookup("limit") != nil); err != nil {
		return err
	}
	env, err := c.opts.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close(ctx)
	c.migrationEnv = env
	if a.change {
		if err := c.resolveActor(ctx); err != nil {
			return err
		}
	}
	return a.call(ctx, c)
}

func (a flagsAction) register(fs *cli.FlagSet, c *flagsCall) {
	c.opts.register(fs, "warn")
	c.opts.gates.register(fs)
	fs.BoolVar(&c.opts.json, "json", false, "print JSON instead of text")
	if a.creates {
		c.opts.creates(fs)
	}
	if a.clients {
		fs.Var(&c.clients, "client", "client id(s), comma-separated or repeated")
	} else if a.client != "" {
		fs.StringVar(&c.client, "client", "", a.client)
	}
	if a.stage != "" {
		fs.StringVar(&c.stage, "stage", "", a.stage)
	}
	if a.flags != nil {
		a.flags(fs, c)
	}
	if a.change {
		c.registerChange(fs)
	}
}

// checkArgs checks the action's flags in the order they are reported;
// withLimit: it takes --limit.
func (a flagsAction) checkArgs(cmd string, v *flagsCall, withLimit bool) (err error) {
	if _, serr := flags.ParseStage(v.stage); serr != nil && (v.stage != "" || a.change && a.stage != "") {
		return cli.Usagef("%s: --%v", cmd, serr)
	}
	if a.check != nil {
		if err := a.check(cmd, v); err != nil {
			return err
		}
	}
	for _, c := range append([]string{v.client}, v.clients...) {
		if cerr := flags.ValidateClient(c); cerr != nil && (c != "" || a.change && a.client != "") {
			return cli.Usagef("%s: --%v", cmd, cerr)
		}
	}
	if v.percentage != "" {
		if v.basisPoints, err = flags.ParsePercentage(v.percentage); err != nil {
			return cli.Usagef("%s: --%v", cmd, err)
		}
	}
	if withLimit && (v.limit < 1 || v.limit > flags.MaxLimit) {
		return cli.Usagef("%s: --limit %d is outside 1..%d", cmd, v.limit, flags.MaxLimit)
	}
	if a.change {
		return v.checkChange(cmd)
	}
	return nil
}

// show prints v (unless err) as JSON with --json, else as writeText
// writes it.
func (c *flagsCall) show(v any, err error, writeText func(io.Writer) error) error {
	if err != nil {
		return err
	}
	return cli.PrintResult(c.stdout, c.opts.json, v, writeText)
}

// reportChange prints an applied change (also one the audit log missed)
// and returns err.
func (c *flagsCall) reportChange(what string, res flags.ChangeResult, err error) error {
	if err != nil && !errors.Is(err, flags.ErrAudit) {
		return err
	}
	if perr := c.show(res, nil, func(w io.Writer) error { return res.WriteText(w, what) }); perr != nil && c.opts.json {
		return perr
	}
	return err
}

func listFlags(fs *cli.FlagSet, c *flagsCall) {
	fs.StringVar(&c.search, "search", "", "keep clients whose id contains this, ignoring case")
	fs.StringVar(&c.after, "after", "", "start after this client id (paging)")
	fs.IntVar(&c.limit, "limit", flags.DefaultLimit, "most clients to list (1..1000)")
}

func setFlags(fs *cli.FlagSet, c *flagsCall) {
	fs.StringVar(&c.percentage, "percentage", "", "rollout share, 0 to 100 with up to two decimals (0 removes the rollout)")
	fs.StringVar(&c.expect, "expect-revision", "", "fail unless the override (or, with --percentage, the configuration) is at this revision; 0 means none yet")
}

func auditFlags(fs *cli.FlagSet, c *flagsCall) {
	fs.IntVar(&c.limit, "limit", 50, "most entries to show (1..1000)")
	fs.Uint64Var(&c.before, "before", 0, "only entries older than this sequence (paging)")
}

// checkSet checks what only flags set takes, after --stage and before
// --client and --percentage.
func checkSet(cmd string, c *flagsCall) (err error) {
	if err := c.checkChange(cmd); err != nil {
		return err
	}
	if (len(c.clients) == 0) == (c.percentage == "") {
		return cli.Usagef("flags set: give either --client or --percentage")
	}
	c.expected = flags.AnyRevision
	if c.expect != "" {
		if c.expected, err = strconv.ParseUint(c.expect, 10, 64); err != nil {
			return cli.Usagef("flags set: --expect-revision %q is not a revision number", c.expect)
		}
		if len(c.clients) > 1 {
			return cli.Usagef("flags set: --expect-revision applies to one client, got %d", len(c.clients))
		}
	}
	return nil
}

func flagsInit(_ context.Context, c *flagsCall) error {
	cp := c.opts.cp
	fmt.Fprintf(c.stdout, "control plane ready: buckets %s, %s, %s, %s; audit stream %s (created with %d replicas where missing)\n",
		cp.MigrationBucket, c.opts.cp.FlagsBucket, cp.ShadowBucket, cp.ClientsBucket, cp.AuditStream, cp.Replicas)
	return nil
}

// flagsGet shows the overview, or the reports of --client.
func flagsGet(ctx context.Context, c *flagsCall) error {
	if len(c.clients) == 0 {
		o, err := c.cp.Flags.Overview(ctx)
		return c.show(o, err, o.WriteText)
	}
	reports, err := c.cp.Flags.ClientReports(ctx, c.cp.Shadow, c.clients)
	return c.show(reports, err, reports.WriteText)
}

func flagsList(ctx context.Context, c *flagsCall) error {
	views, err := c.cp.Flags.ListClients(ctx, flags.ClientQuery{Search: c.search, Stage: flags.Stage(c.stage), After: c.after, Limit: c.limit})
	return c.show(views, err, func(w io.Writer) error { return flags.WriteClientTable(w, views) })
}

// flagsSet sets the rollout, or the stage of each client, printing each
// client's change as it is made.
func flagsSet(ctx context.Context, c *flagsCall) error {
	stage := flags.Stage(c.stage)
	if c.percentage != "" {
		res, err := c.cp.Flags.SetRollout(ctx, flags.ConfigChange{Stage: stage, Reason: c.reason, Actor: c.actor, ExpectedRevision: c.expected, Force: c.force}, c.basisPoints)
		return c.reportChange("rollout", res, err)
	}
	change := flags.Change{Stage: stage, Reason: c.reason, Actor: c.actor, ExpectedRevision: c.expected, Force: c.force}
	results, err := c.cp.Flags.SetStages(ctx, c.clients, change, func(client string, res flags.ChangeResult, err error) {
		if err != nil {
			fmt.Fprintf(c.stderr, "switchyard flags set: %s: %v\n", client, err)
		} else if !c.opts.json {
			res.WriteText(c.stdout, "client "+client)
		}
	})
	if c.opts.json {
		if jerr := cli.WriteJSON(c.stdout, results); jerr != nil {
			return jerr
		}
	}
	return err
}

func flagsClear(ctx context.Context, c *flagsCall) error {
	res, err := c.cp.Flags.ClearOverride(ctx, flags.Clear{Client: c.client, Reason: c.reason, Actor: c.actor, ExpectedRevision: flags.AnyRevision, Force: c.force})
	return c.reportChange("client "+c.client, res, err)
}

func flagsDefault(ctx context.Context, c *flagsCall) error {
	res, err := c.cp.Flags.SetDefault(ctx, flags.ConfigChange{Stage: flags.Stage(c.stage), Reason: c.reason, Actor: c.actor, ExpectedRevision: flags.AnyRevision, Force: c.force})
	return c.reportChange("default", res, err)
}

// flagsHistory shows a client's override revisions, or the configuration's.
func flagsHistory(ctx context.Context, c *flagsCall) error {
	if c.client == "" {
		revs, err := c.cp.Flags.ConfigHistory(ctx)
		return c.show(revs, err, func(w io.Writer) error { return flags.WriteConfigHistory(w, revs) })
	}
	hist, err := c.cp.Flags.History(ctx, c.client)
	return c.show(hist, err, func(w io.Writer) error { return flags.WriteHistory(w, hist) })
}

func flagsAudit(ctx context.Context, c *flagsCall) error {
	entries, err := c.cp.Audit.List(ctx, flags.AuditQuery{Client: c.client, Limit: c.limit, Before: c.before})
	return c.show(entries, err, func(w io.Writer) error { return flags.WriteAuditTable(w, entries) })
}

func flagsResetShadow(ctx context.Context, c *flagsCall) error {
	seq, err := c.cp.Flags.ResetShadowStats(ctx, c.client, c.reason, c.actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "client %s: shadow counters reset, audit #%d\n", c.client, seq)
	return nil
}

func (c *flagsCall) registerChange(fs *cli.FlagSet) {
	fs.StringVar(&c.reason, "reason", "", "why the stage changes (required; kept in the audit log)")
	fs.StringVar(&c.note, "actor", "", "a name to note next to the recorded identity (the NATS user, else the OS user), such as who asked for the change")
	fs.BoolVar(&c.force, "force", false, "apply a move onto the target store although promotion gates fail")
}

func (c *flagsCall) checkChange(cmd string) error {
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
func (c *flagsCall) resolveActor(ctx context.Context) error {
	id, err := cli.Identity(ctx, c.nc, c.opts.nats.URL)
	if err != nil {
		return err
	}
	if c.actor, err = flags.RecordedActor(id, c.note); err != nil {
		return cli.Usagef("--%v", err)
	}
	return nil
}
