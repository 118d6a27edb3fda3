package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/subscriptions"
)

const subsUsage = `subs list|ensure|inspect|delete [flags]

  list     every consumer of --stream with its position and lag
  ensure   create --stream (and its dead-letter stream) when missing, with
           --replicas, the limits and placement; check an existing one,
           print where it differs, refuse it when it cannot serve, and
           change only what --update-stream names; then create or update
           the durable consumer --consumer (the start position applies
           only when the consumer is created)
  inspect  one consumer: start sequence, pending, ack floor, redeliveries,
           dead letters
  delete   remove a consumer and its position; requires --confirm=<consumer>

See docs/subscriptions.md.`

func runSubs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	action, args, err := splitAction("subs", subsUsage, "list, ensure, inspect or delete", args, stdout)
	if err != nil {
		return err
	}
	fs := cli.NewFlagSet("subs "+action, subsUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	stream := fs.String("stream", "EVENTS", "event stream name")
	consumer := fs.String("consumer", "", "durable consumer name (ensure, inspect, delete)")
	asJSON := fs.Bool("json", false, "print JSON")
	var ensure ensureFlags
	var confirm *string
	switch action {
	case "list", "inspect":
	case "ensure":
		ensure.register(fs)
	case "delete":
		confirm = fs.String("confirm", "", "the consumer name again, to confirm the deletion")
	default:
		return cli.Usagef("subs: unknown action %q (list, ensure, inspect, delete)", action)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if *stream == "" {
		return cli.Usagef("subs %s: --stream is required", action)
	}
	if action != "list" && *consumer == "" {
		return cli.Usagef("subs %s: --consumer is required", action)
	}
	var spec subscriptions.ConsumerSpec
	var streamSpec subscriptions.StreamSpec
	if action == "ensure" {
		var err error
		if streamSpec, spec, err = ensure.specs(*stream, *consumer); err != nil {
			return err
		}
	}
	if action == "delete" && *confirm != *consumer {
		return cli.Usagef("subs delete: deleting consumer %s forgets its position; pass --confirm=%s", *consumer, *consumer)
	}

	log, err := cli.NewLogger(stderr, "text", "info")
	if err != nil {
		return err
	}
	natsFlags.Name = "switchyard subs"
	nc, js, err := natsFlags.Connect(ctx, log)
	if err != nil {
		return err
	}
	defer nc.Close()

	switch action {
	case "list":
		all, err := subscriptions.List(ctx, js, *stream)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeIndentedJSON(stdout, all)
		}
		return printStatuses(stdout, all)
	case "inspect":
		st, err := subscriptions.Inspect(ctx, js, *stream, *consumer)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeIndentedJSON(stdout, st)
		}
		return printStatuses(stdout, []subscriptions.Status{st})
	case "ensure":
		declared, err := subscriptions.Ensure(ctx, js, streamSpec, spec)
		if err != nil {
			return err
		}
		st, err := subscriptions.Inspect(ctx, js, *stream, *consumer)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeIndentedJSON(stdout, ensureOutput{Stream: declared.Stream, DeadLetters: declared.DeadLetters, Consumer: st})
		}
		printStreamReport(stdout, declared.Stream)
		printStreamReport(stdout, declared.DeadLetters)
		fmt.Fprintf(stdout, "consumer %s on %s ensured (start_seq %d)\n", *consumer, *stream, st.StartSeq)
		return printStatuses(stdout, []subscriptions.Status{st})
	default: // delete
		if err := subscriptions.DeleteConsumer(ctx, js, *stream, *consumer); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "consumer %s on %s deleted\n", *consumer, *stream)
		return nil
	}
}

// ensureOutput is what subs ensure --json prints.
type ensureOutput struct {
	Stream      subscriptions.StreamReport `json:"stream"`
	DeadLetters subscriptions.StreamReport `json:"dead_letter_stream"`
	Consumer    subscriptions.Status       `json:"consumer"`
}

// printStreamReport says whether a stream was created, and where an
// existing one differs from the declaration (left alone) or was updated.
func printStreamReport(w io.Writer, r subscriptions.StreamReport) {
	switch {
	case r.Created:
		fmt.Fprintf(w, "stream %s created\n", r.Stream)
	case len(r.Differences) == 0 && len(r.Updated) == 0:
		fmt.Fprintf(w, "stream %s exists and matches the declaration\n", r.Stream)
	default:
		fmt.Fprintf(w, "stream %s exists and is usable\n", r.Stream)
	}
	for _, d := range r.Differences {
		if d.Updatable {
			fmt.Fprintf(w, "  %s: %s (declared %s; left as it is, --update-stream=%s changes it)\n", d.Field, d.Existing, d.Declared, d.Field)
		} else {
			fmt.Fprintf(w, "  %s: %s (declared %s; left as it is)\n", d.Field, d.Existing, d.Declared)
		}
	}
	for _, d := range r.Updated {
		fmt.Fprintf(w, "  %s: %s -> %s (updated)\n", d.Field, d.Existing, d.Declared)
	}
}

// logStreamReport logs what printStreamReport prints, for long-running
// commands.
func logStreamReport(log *slog.Logger, r subscriptions.StreamReport) {
	if r.Created {
		log.Info("stream created", "stream", r.Stream)
	}
	for _, d := range r.Differences {
		log.Warn("stream differs from the declaration; left as it is", "stream", r.Stream, "field", d.Field, "existing", d.Existing, "declared", d.Declared)
	}
	for _, d := range r.Updated {
		log.Info("stream updated", "stream", r.Stream, "field", d.Field, "from", d.Existing, "to", d.Declared)
	}
}

// ensureFlags are the declarative settings of subs ensure.
type ensureFlags struct {
	prefix, start, role, versionSource string
	filters                            cli.StringList
	backoff                            cli.StringList
	ackWait, duplicateWindow, maxAge   time.Duration
	maxDeliver, maxAckPending          int
	replicas                           int
	maxMsgs, maxBytes                  int64
	placementCluster                   string
	placementTags, updateStream        cli.StringList
}

func (f *ensureFlags) register(fs *cli.FlagSet) {
	fs.StringVar(&f.prefix, "prefix", events.DefaultSubjectPrefix, "subject prefix the stream captures (<prefix>.>)")
	fs.StringVar(&f.start, "start", "all", "start of a new consumer: all, new, seq:N, time:RFC3339")
	fs.StringVar(&f.role, "role", "", "legacy or target (recorded in the consumer's metadata)")
	fs.StringVar(&f.versionSource, "version-source", string(events.VersionFromStream), "stream or producer (recorded in the consumer's metadata)")
	fs.Var(&f.filters, "filter", "subject filter (repeatable or comma-separated); empty means every event")
	fs.Var(&f.backoff, "backoff", "redelivery delays, comma-separated (1s,5s,30s); the first replaces --ack-wait")
	fs.DurationVar(&f.ackWait, "ack-wait", 30*time.Second, "time a delivered event may stay unacknowledged")
	fs.DurationVar(&f.duplicateWindow, "duplicate-window", subscriptions.DefaultDuplicateWindow, "how long the stream drops repeated Nats-Msg-Ids: the window of a created stream, and the least an existing one must keep")
	fs.DurationVar(&f.maxAge, "max-age", 0, "how long a created stream keeps events; 0 means forever")
	fs.Int64Var(&f.maxMsgs, "max-msgs", 0, "most events a created stream keeps; 0 means unlimited")
	fs.Int64Var(&f.maxBytes, "max-bytes", 0, "most bytes a created stream keeps; 0 means unlimited")
	fs.IntVar(&f.replicas, "replicas", 1, "copies of a created stream and dead-letter stream in a NATS cluster (1, 3 or 5)")
	fs.StringVar(&f.placementCluster, "placement-cluster", "", "NATS cluster a created stream is placed in; empty lets the server choose")
	fs.Var(&f.placementTags, "placement-tags", "server tags a created stream is placed on (comma-separated)")
	fs.Var(&f.updateStream, "update-stream", "settings of an existing stream to change, comma-separated: subjects (added, never dropped), duplicate-window, max-age, max-msgs, max-bytes, replicas (raised, never lowered); empty changes nothing")
	fs.IntVar(&f.maxDeliver, "max-deliver", -1, "deliveries per event before JetStream gives up; -1 means unlimited")
	fs.IntVar(&f.maxAckPending, "max-ack-pending", 10_000, "unacknowledged events across the whole fleet")
}

// specs validates the flags and returns the stream and consumer declarations.
func (f *ensureFlags) specs(stream, consumer string) (subscriptions.StreamSpec, subscriptions.ConsumerSpec, error) {
	var none subscriptions.StreamSpec
	if !events.ValidPrefix(f.prefix) {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--prefix %q is not a subject prefix", f.prefix)
	}
	start, err := subscriptions.ParseStart(f.start)
	if err != nil {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--start: %v", err)
	}
	if _, err := events.ParseVersionSource(f.versionSource); err != nil {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--version-source: %v", err)
	}
	if f.role != "" && f.role != "legacy" && f.role != "target" {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--role %q is not one of legacy, target", f.role)
	}
	if f.ackWait <= 0 {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--ack-wait %v must be positive", f.ackWait)
	}
	if f.duplicateWindow < 0 || f.maxAge < 0 || f.maxMsgs < 0 || f.maxBytes < 0 {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--duplicate-window, --max-age, --max-msgs and --max-bytes must not be negative")
	}
	if f.replicas < 1 || f.replicas > 5 {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--replicas %d must be 1 to 5", f.replicas)
	}
	var update []subscriptions.StreamField
	for _, name := range f.updateStream {
		field, err := subscriptions.ParseStreamField(name)
		if err != nil {
			return none, subscriptions.ConsumerSpec{}, cli.Usagef("--update-stream: %v", err)
		}
		update = append(update, field)
	}
	var placement *jetstream.Placement
	if f.placementCluster != "" || len(f.placementTags) > 0 {
		placement = &jetstream.Placement{Cluster: f.placementCluster, Tags: f.placementTags}
	}
	if f.maxDeliver == 0 || f.maxDeliver < -1 {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--max-deliver %d must be positive or -1 (unlimited)", f.maxDeliver)
	}
	if f.maxAckPending < 1 {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--max-ack-pending %d must be positive", f.maxAckPending)
	}
	var backoff []time.Duration
	for _, s := range f.backoff {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return none, subscriptions.ConsumerSpec{}, cli.Usagef("--backoff: %q is not a positive duration", s)
		}
		backoff = append(backoff, d)
	}
	if len(backoff) > 0 && f.maxDeliver > 0 && f.maxDeliver <= len(backoff) {
		return none, subscriptions.ConsumerSpec{}, cli.Usagef("--max-deliver %d must exceed the %d --backoff steps", f.maxDeliver, len(backoff))
	}
	for _, filter := range f.filters {
		if !strings.HasPrefix(filter, f.prefix+".") {
			return none, subscriptions.ConsumerSpec{}, cli.Usagef("--filter %q is outside the stream's subjects %s.>", filter, f.prefix)
		}
	}
	streamSpec := subscriptions.StreamSpec{
		Name:            stream,
		Subjects:        []string{events.SubjectFilter(f.prefix)},
		DuplicateWindow: f.duplicateWindow,
		MaxAge:          f.maxAge,
		MaxMsgs:         f.maxMsgs,
		MaxBytes:        f.maxBytes,
		Replicas:        f.replicas,
		Placement:       placement,
		Update:          update,
	}
	spec := subscriptions.ConsumerSpec{
		Stream:         stream,
		Name:           consumer,
		Role:           f.role,
		FilterSubjects: f.filters,
		Start:          start,
		AckWait:        f.ackWait,
		MaxDeliver:     f.maxDeliver,
		Backoff:        backoff,
		MaxAckPending:  f.maxAckPending,
		VersionSource:  f.versionSource,
	}
	return streamSpec, spec, nil
}

func printStatuses(w io.Writer, all []subscriptions.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tROLE\tSTART\tDELIVERED\tACK FLOOR\tPENDING\tACK PENDING\tREDELIVERED\tLAG\tWAITING\tDEAD LETTERS\tLAST ACTIVE")
	for _, st := range all {
		last := "-"
		if st.LastActive != nil && !st.LastActive.IsZero() {
			last = st.LastActive.UTC().Format(time.RFC3339)
		}
		role := st.Role
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", st.Consumer, role, st.StartSeq, st.Delivered,
			st.AckFloor, st.Pending, st.AckPending, st.Redelivered, st.Lag, st.Waiting, st.DeadLetters, last)
	}
	return tw.Flush()
}
