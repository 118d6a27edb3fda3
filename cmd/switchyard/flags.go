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
	return action.run(ctx, sub, rest, stdout, stderr)
}

// flagsAction is one action of the flags command: the flags it takes
// besides the connection's, their checks, and the one call it makes. Its
// help text is usage/flags-NAME.txt.
type flagsAction struct {
	// creates: the action creates what is missing of the control plane,
	// with --replicas. change: it changes something, with --reason,
	// --actor and --force, recording who.
	creates, change bool
	flags           func(fs *cli.FlagSet, a *flagsArgs)
	check           func(cmd string, a *flagsArgs) error
	call            func(ctx context.Context, c *flagsCall) error
}

// flagsArgs are the actions' own flags; each action registers those it
// takes. expected and basisPoints are what checkSet parsed.
type flagsArgs struct {
	clients                                          cli.StringList
	client, stage, percentage, expect, search, after string
	limit                                            int
	before, expected                                 uint64
	basisPoints                                      int
	ch                                               changeFlags
}

// flagsCall is what an action's call works with: the opened control
// plane, the action's flags, the connection and bucket flags (opts) and
// the output.
type flagsCall struct {
	*flagsEnv
	*flagsArgs
	opts           *flagsFlags
	stdout, stderr io.Writer
}

// run parses and checks the action's flags (then those of a change),
// opens the control plane, resolves who makes a change and makes the
// action's call.
func (a flagsAction) run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	cmd := "flags " + name
	fs := cli.NewFlagSet(cmd, usageText("flags-"+name), stderr)
	c := &flagsCall{flagsArgs: &flagsArgs{}, opts: &flagsFlags{}, stdout: stdout, stderr: stderr}
	c.opts.register(fs, "warn")
	c.opts.gates.register(fs)
	fs.BoolVar(&c.opts.json, "json", false, "print JSON instead of text")
	if a.creates {
		c.opts.creates(fs)
	}
	if a.flags != nil {
		a.flags(fs, c.flagsArgs)
	}
	if a.change {
		c.ch.register(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if a.check != nil {
		if err := a.check(cmd, c.flagsArgs); err != nil {
			return err
		}
	}
	if a.change {
		if err := c.ch.check(cmd); err != nil {
			return err
		}
	}
	env, err := c.opts.open(ctx, "flags", stderr)
	if err != nil {
		return err
	}
	defer env.close()
	c.flagsEnv = env
	if a.change {
		if err := c.ch.resolveActor(ctx, env, c.opts.nats.URL); err != nil {
			return err
		}
	}
	return a.call(ctx, c)
}

// print prints v as JSON with --json, else as writeText writes it.
func (c *flagsCall) print(v any, writeText func(io.Writer) error) error {
	return printResult(c.stdout, c.opts.json, v, writeText)
}

// reportChange prints an applied change (also one the audit log missed)
// and returns err.
func (c *flagsCall) reportChange(what string, res flags.ChangeResult, err error) error {
	if err != nil && !errors.Is(err, flags.ErrAudit) {
		return err
	}
	if perr := c.print(res, func(w io.Writer) error { return res.WriteText(w, what) }); perr != nil && c.opts.json {
		return perr
	}
	return err
}

// Flags several actions take.
const stageHelp = "legacy, shadow, target-shadow or target (required)"

func clientsFlag(fs *cli.FlagSet, a *flagsArgs) {
	fs.Var(&a.clients, "client", "client id(s), comma-separated or repeated")
}

func clientFlag(help string) func(*cli.FlagSet, *flagsArgs) {
	return func(fs *cli.FlagSet, a *flagsArgs) { fs.StringVar(&a.client, "client", "", help) }
}

// checkClients refuses a malformed --client; an empty one means none was
// given (an optional --client).
func checkClients(cmd string, a *flagsArgs) error {
	for _, c := range append([]string{a.client}, a.clients...) {
		if err := flags.ValidateClient(c); c != "" && err != nil {
			return cli.Usagef("%s: --%v", cmd, err)
		}
	}
	return nil
}

func requireClient(cmd string, a *flagsArgs) error {
	if err := flags.ValidateClient(a.client); err != nil {
		return cli.Usagef("%s: --%v", cmd, err)
	}
	return nil
}

func checkStage(cmd string, a *flagsArgs) error {
	if _, err := flags.ParseStage(a.stage); err != nil {
		return cli.Usagef("%s: --%v", cmd, err)
	}
	return nil
}

func checkLimit(cmd string, limit int) error {
	if limit < 1 || limit > flags.MaxLimit {
		return cli.Usagef("%s: --limit %d is outside 1..%d", cmd, limit, flags.MaxLimit)
	}
	return nil
}

// flagsActions are the actions of the flags command.
var flagsActions = map[string]flagsAction{
	"init": {creates: true, call: func(_ context.Context, c *flagsCall) error {
		cp := c.opts.cp
		fmt.Fprintf(c.stdout, "control plane ready: buckets %s, %s, %s, %s; audit stream %s (created with %d replicas where missing)\n",
			cp.MigrationBucket, c.opts.bucket, cp.ShadowBucket, cp.ClientsBucket, cp.AuditStream, cp.Replicas)
		return nil
	}},
	"get": {flags: clientsFlag, check: checkClients, call: flagsGet},
	"list": {flags: func(fs *cli.FlagSet, a *flagsArgs) {
		fs.StringVar(&a.search, "search", "", "keep clients whose id contains this, ignoring case")
		fs.StringVar(&a.stage, "stage", "", "keep clients in this stage")
		fs.StringVar(&a.after, "after", "", "start after this client id (paging)")
		fs.IntVar(&a.limit, "limit", flags.DefaultLimit, "most clients to list (1..1000)")
	}, check: func(cmd string, a *flagsArgs) error {
		if a.stage != "" {
			if err := checkStage(cmd, a); err != nil {
				return err
			}
		}
		return checkLimit(cmd, a.limit)
	}, call: func(ctx context.Context, c *flagsCall) error {
		views, err := c.store.ListClients(ctx, flags.ClientQuery{Search: c.search, Stage: flags.Stage(c.stage), After: c.after, Limit: c.limit})
		if err != nil {
			return err
		}
		return c.print(views, func(w io.Writer) error { return flags.WriteClientTable(w, views) })
	}},
	"set": {creates: true, change: true, flags: func(fs *cli.FlagSet, a *flagsArgs) {
		clientsFlag(fs, a)
		fs.StringVar(&a.stage, "stage", "", stageHelp)
		fs.StringVar(&a.percentage, "percentage", "", "rollout share, 0 to 100 with up to two decimals (0 removes the rollout)")
		fs.StringVar(&a.expect, "expect-revision", "", "fail unless the override (or, with --percentage, the configuration) is at this revision; 0 means none yet")
	}, check: checkSet, call: flagsSet},
	"clear": {creates: true, change: true, flags: clientFlag("client id (required)"), check: requireClient, call: func(ctx context.Context, c *flagsCall) error {
		res, err := c.store.ClearOverride(ctx, flags.Clear{Client: c.client, Reason: c.ch.reason, Actor: c.ch.actor, ExpectedRevision: flags.AnyRevision, Force: c.ch.force})
		return c.reportChange("client "+c.client, res, err)
	}},
	"default": {creates: true, change: true, flags: func(fs *cli.FlagSet, a *flagsArgs) {
		fs.StringVar(&a.stage, "stage", "", stageHelp)
	}, check: checkStage, call: func(ctx context.Context, c *flagsCall) error {
		res, err := c.store.SetDefault(ctx, flags.ConfigChange{Stage: flags.Stage(c.stage), Reason: c.ch.reason, Actor: c.ch.actor, ExpectedRevision: flags.AnyRevision, Force: c.ch.force})
		return c.reportChange("default", res, err)
	}},
	"history": {flags: clientFlag("client id; without it, the configuration's history"), check: checkClients, call: flagsHistory},
	"audit": {flags: func(fs *cli.FlagSet, a *flagsArgs) {
		clientFlag("only this client's changes")(fs, a)
		fs.IntVar(&a.limit, "limit", 50, "most entries to show (1..1000)")
		fs.Uint64Var(&a.before, "before", 0, "only entries older than this sequence (paging)")
	}, check: func(cmd string, a *flagsArgs) error {
		if err := checkClients(cmd, a); err != nil {
			return err
		}
		return checkLimit(cmd, a.limit)
	}, call: func(ctx context.Context, c *flagsCall) error {
		entries, err := c.audit.List(ctx, flags.AuditQuery{Client: c.client, Limit: c.limit, Before: c.before})
		if err != nil {
			return err
		}
		return c.print(entries, func(w io.Writer) error { return flags.WriteAuditTable(w, entries) })
	}},
	"reset-shadow": {creates: true, change: true, flags: clientFlag("client id (required)"), check: requireClient, call: func(ctx context.Context, c *flagsCall) error {
		seq, err := c.store.ResetShadowStats(ctx, c.client, c.ch.reason, c.ch.actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "client %s: shadow counters reset, audit #%d\n", c.client, seq)
		return nil
	}},
}

// flagsGet shows the overview, or the reports of --client.
func flagsGet(ctx context.Context, c *flagsCall) error {
	if len(c.clients) == 0 {
		o, err := c.store.Overview(ctx)
		if err != nil {
			return err
		}
		return c.print(o, o.WriteText)
	}
	reports, err := c.store.ClientReports(ctx, c.shadow, c.clients)
	if err != nil {
		return err
	}
	return c.print(reports, reports.WriteText)
}

// flagsHistory shows a client's override revisions, or the configuration's.
func flagsHistory(ctx context.Context, c *flagsCall) error {
	if c.client == "" {
		revs, err := c.store.ConfigHistory(ctx)
		if err != nil {
			return err
		}
		return c.print(revs, func(w io.Writer) error { return flags.WriteConfigHistory(w, revs) })
	}
	hist, err := c.store.History(ctx, c.client)
	if err != nil {
		return err
	}
	return c.print(hist, func(w io.Writer) error { return flags.WriteHistory(w, hist) })
}

// checkSet checks the flags of flags set in the order they are reported.
func checkSet(cmd string, a *flagsArgs) (err error) {
	if err := checkStage(cmd, a); err != nil {
		return err
	}
	if err := a.ch.check(cmd); err != nil {
		return err
	}
	if (len(a.clients) == 0) == (a.percentage == "") {
		return cli.Usagef("flags set: give either --client or --percentage")
	}
	a.expected = flags.AnyRevision
	if a.expect != "" {
		if a.expected, err = strconv.ParseUint(a.expect, 10, 64); err != nil {
			return cli.Usagef("flags set: --expect-revision %q is not a revision number", a.expect)
		}
		if len(a.clients) > 1 {
			return cli.Usagef("flags set: --expect-revision applies to one client, got %d", len(a.clients))
		}
	}
	if err := checkClients(cmd, a); err != nil {
		return err
	}
	if a.percentage != "" {
		if a.basisPoints, err = flags.ParsePercentage(a.percentage); err != nil {
			return cli.Usagef("flags set: --%v", err)
		}
	}
	return nil
}

// flagsSet sets the rollout, or the stage of each client, printing each
// client's change as it is made.
func flagsSet(ctx context.Context, c *flagsCall) error {
	stage, ch := flags.Stage(c.stage), c.ch
	if c.percentage != "" {
		res, err := c.store.SetRollout(ctx, flags.ConfigChange{Stage: stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: c.expected, Force: ch.force}, c.basisPoints)
		return c.reportChange("rollout", res, err)
	}
	change := flags.Change{Stage: stage, Reason: ch.reason, Actor: ch.actor, ExpectedRevision: c.expected, Force: ch.force}
	results, err := c.store.SetStages(ctx, c.clients, change, func(client string, res flags.ChangeResult, err error) {
		if err != nil {
			fmt.Fprintf(c.stderr, "switchyard flags set: %s: %v\n", client, err)
		} else if !c.opts.json {
			res.WriteText(c.stdout, "client "+client)
		}
	})
	if c.opts.json {
		if jerr := writeIndentedJSON(c.stdout, results); jerr != nil {
			return jerr
		}
	}
	return err
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
