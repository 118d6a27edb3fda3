package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/stores"
	_ "github.com/switchyard/switchyard/stores/all" // every store by DSN
	"github.com/switchyard/switchyard/subscriptions"
)

const dlqUsage = `dlq list|show|replay|purge --consumer NAME [flags]

  list    the consumer's dead letters: reason, kind, original subject and
          sequence, deliveries, time
  show    one dead letter (--seq): every header and the payload
  replay  after a fix, apply dead letters (--all, or one: --seq N) directly to the
          consumer's store (--sink) with their original versions, and delete
          each one that was applied; still-invalid ones stay and are listed
  purge   delete every dead letter of the consumer without applying them;
          requires --confirm=<consumer>

See docs/subscriptions.md#dead-letters.`

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	action, args, err := splitAction("dlq", dlqUsage, "list, show, replay or purge", args, stdout)
	if err != nil {
		return err
	}
	fs := cli.NewFlagSet("dlq "+action, dlqUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	stream := fs.String("stream", "EVENTS", "event stream name")
	consumer := fs.String("consumer", "", "durable consumer whose dead letters to use (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	var (
		seq            *uint64
		limit          *int
		after          *uint64
		confirm        *string
		replayFlags    dlqReplayFlags
		requireSeq     bool
		acceptsSeqFlag = action == "show" || action == "replay"
	)
	switch action {
	case "list":
		limit = fs.Int("limit", 100, "most dead letters to list; 0 means all")
		after = fs.Uint64("after", 0, "list dead letters with a sequence above this one (paging)")
	case "show":
		requireSeq = true
	case "replay":
		replayFlags.register(fs)
	case "purge":
		confirm = fs.String("confirm", "", "the consumer name again, to confirm the purge")
	default:
		return cli.Usagef("dlq: unknown action %q (list, show, replay, purge)", action)
	}
	if acceptsSeqFlag {
		seq = fs.Uint64("seq", 0, "dead-letter sequence (as listed by dlq list)")
	}
	var all *bool
	if action == "replay" {
		all = fs.Bool("all", false, "replay every dead letter of the consumer (instead of --seq)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	seqGiven := false
	fs.Visit(func(fl *flag.Flag) { seqGiven = seqGiven || fl.Name == "seq" })
	if err := fs.NoArgs(); err != nil {
		return err
	}
	switch {
	case *stream == "":
		return cli.Usagef("dlq %s: --stream is required", action)
	case *consumer == "":
		return cli.Usagef("dlq %s: --consumer is required", action)
	case requireSeq && *seq == 0:
		return cli.Usagef("dlq show: --seq is required")
	case seqGiven && *seq == 0:
		return cli.Usagef("dlq %s: --seq 0 is not a dead-letter sequence (they start at 1)", action)
	case all != nil && !seqGiven && !*all:
		return cli.Usagef("dlq replay: give --seq N to replay one dead letter, or --all to replay every one")
	case all != nil && seqGiven && *all:
		return cli.Usagef("dlq replay: give either --seq or --all, not both")
	case limit != nil && *limit < 0:
		return cli.Usagef("dlq list: --limit %d must not be negative", *limit)
	case confirm != nil && *confirm != *consumer:
		return cli.Usagef("dlq purge: this deletes every dead letter of %s unreplayed; pass --confirm=%s", *consumer, *consumer)
	}
	if action == "replay" {
		if err := replayFlags.validate(); err != nil {
			return err
		}
	}

	log, err := cli.NewLogger(stderr, "text", "info")
	if err != nil {
		return err
	}
	natsFlags.Name = "switchyard dlq"
	nc, js, err := natsFlags.Connect(ctx, log)
	if err != nil {
		return err
	}
	defer nc.Close()

	switch action {
	case "list":
		list, err := subscriptions.ListDeadLetters(ctx, js, *stream, *consumer, *after, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			for i := range list {
				list[i].Header, list[i].Payload = nil, nil // list is a summary; show has the rest
			}
			return writeIndentedJSON(stdout, list)
		}
		return printDeadLetters(stdout, list)
	case "show":
		dl, err := subscriptions.GetDeadLetter(ctx, js, *stream, *consumer, *seq)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeIndentedJSON(stdout, dl)
		}
		return printDeadLetter(stdout, dl)
	case "replay":
		return replayFlags.run(ctx, js, *stream, *consumer, *seq, *all, *asJSON, stdout)
	default: // purge
		n, err := subscriptions.PurgeDeadLetters(ctx, js, *stream, *consumer)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "purged %d dead letters of %s on %s\n", n, *consumer, *stream)
		return nil
	}
}

// dlqReplayFlags are the settings of dlq replay.
type dlqReplayFlags struct {
	sink, versionSource, prefix string
	maxEventBytes, batchSize    int
}

func (f *dlqReplayFlags) register(fs *cli.FlagSet) {
	fs.StringVar(&f.sink, "sink", "", "DSN of the consumer's store (required); ${env:NAME} and ${file:PATH} are resolved")
	fs.StringVar(&f.versionSource, "version-source", "", "stream or producer; default: what the consumer records")
	fs.StringVar(&f.prefix, "prefix", events.DefaultSubjectPrefix, "subject prefix of the stream")
	fs.IntVar(&f.maxEventBytes, "max-event-bytes", events.DefaultMaxEventBytes, "largest event to accept, in bytes")
	fs.IntVar(&f.batchSize, "batch-size", 500, "dead letters per store transaction")
}

func (f *dlqReplayFlags) validate() error {
	switch {
	case f.sink == "":
		return cli.Usagef("dlq replay: --sink is required")
	case stores.Scheme(f.sink) == "":
		return cli.Usagef("dlq replay: --sink %q is not a DSN (scheme:...)", stores.Redact(f.sink))
	case !events.ValidPrefix(f.prefix):
		return cli.Usagef("dlq replay: --prefix %q is not a subject prefix", f.prefix)
	case f.maxEventBytes < 1:
		return cli.Usagef("dlq replay: --max-event-bytes %d must be positive", f.maxEventBytes)
	case f.batchSize < 1:
		return cli.Usagef("dlq replay: --batch-size %d must be positive", f.batchSize)
	}
	if f.versionSource != "" {
		if _, err := events.ParseVersionSource(f.versionSource); err != nil {
			return cli.Usagef("dlq replay: --version-source: %v", err)
		}
	}
	return nil
}

// versionSourceOf returns the version source to replay with: the flag, which
// must agree with what the consumer records, or the recorded one. Replaying
// with the wrong source would give events the wrong versions.
func (f *dlqReplayFlags) versionSourceOf(ctx context.Context, js jetstream.JetStream, stream, consumer string) (events.VersionSource, error) {
	var recorded string
	c, err := js.Consumer(ctx, stream, consumer)
	switch {
	case err == nil:
		recorded = c.CachedInfo().Config.Metadata[subscriptions.MetaVersionSource]
	case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound):
	default:
		return "", fmt.Errorf("consumer %s on %s: %w", consumer, stream, err)
	}
	switch {
	case f.versionSource == "" && recorded == "":
		return "", cli.Usagef("dlq replay: --version-source is required: consumer %s records none", consumer)
	case f.versionSource == "":
		return events.ParseVersionSource(recorded)
	case recorded != "" && recorded != f.versionSource:
		return "", cli.Usagef("dlq replay: --version-source %s contradicts consumer %s, which records %s", f.versionSource, consumer, recorded)
	}
	return events.VersionSource(f.versionSource), nil
}

func (f *dlqReplayFlags) run(ctx context.Context, js jetstream.JetStream, stream, consumer string, seq uint64, all, asJSON bool, stdout io.Writer) error {
	source, err := f.versionSourceOf(ctx, js, stream, consumer)
	if err != nil {
		return err
	}
	sink, err := stores.Open(ctx, f.sink)
	if err != nil {
		if errors.Is(err, stores.ErrUnknownScheme) {
			return cli.Usagef("dlq replay: --sink: %v", err)
		}
		return err
	}
	defer sink.Close()
	res, err := subscriptions.Replay{
		Stream:        stream,
		Consumer:      consumer,
		Sink:          sink,
		VersionSource: source,
		Decoder:       events.Decoder{MaxEventBytes: f.maxEventBytes},
		SubjectPrefix: f.prefix,
		Seq:           seq,
		All:           all,
		BatchSize:     f.batchSize,
	}.Run(ctx, js)
	if err != nil && res.Replayed == 0 && len(res.Failed) == 0 {
		// Nothing happened (unknown consumer or sequence): only the error.
		if errors.Is(err, subscriptions.ErrNotFound) {
			return cli.Usagef("dlq replay: %v", err)
		}
		return err
	}
	if asJSON {
		if jerr := writeIndentedJSON(stdout, res); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		fmt.Fprintf(stdout, "replayed %d dead letters of %s into %s: %d applied, %d older than the stored row, %d already applied\n",
			res.Replayed, consumer, stores.Redact(f.sink), res.Store.Applied, res.Store.Skipped, res.Store.Duplicates)
		for _, fail := range res.Failed {
			fmt.Fprintf(stdout, "kept %d: %s\n", fail.Seq, oneLine(fail.Reason))
		}
	}
	if err != nil {
		return err
	}
	if len(res.Failed) > 0 {
		return cli.CheckFailedf("%d dead letters could not be replayed and stay in the dead-letter stream", len(res.Failed))
	}
	return nil
}

func printDeadLetters(w io.Writer, list []subscriptions.DeadLetter) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tFAILED AT\tKIND\tORIGINAL SEQ\tSUBJECT\tDELIVERIES\tREASON")
	for _, dl := range list {
		failed := "-"
		if !dl.FailedAt.IsZero() {
			failed = dl.FailedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\n", dl.Seq, failed, dl.Kind, dl.OriginalSeq, dl.OriginalSubject, dl.Deliveries, oneLine(dl.Reason))
	}
	return tw.Flush()
}

func printDeadLetter(w io.Writer, dl subscriptions.DeadLetter) error {
	fmt.Fprintf(w, "dead letter %d of %s on %s\n\n", dl.Seq, dl.Consumer, dl.Stream)
	names := make([]string, 0, len(dl.Header))
	for k := range dl.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range dl.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintf(w, "\n%s\n", dl.Payload)
	return nil
}
