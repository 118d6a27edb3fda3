package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/cli"
)

const publishUsage = `publish [--file events.jsonl] [--prefix events] [--dry-run]

Reads one event per line (see docs/events.md), validates each line with the
workers' rules and publishes the valid ones on <prefix>.<entity>.<op> with the
event id as Nats-Msg-Id, pipelined in chunks. Invalid lines are reported with
their line number and skipped; the command then exits with status 1.
Publishing a file again is safe: ids deduplicate in the stream's window, and
later repeats lose to the version fence or the ledger. Blank lines are
ignored. Without --file, events are read from stdin.`

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("publish", publishUsage, stderr)
	var natsFlags cli.NATSFlags
	natsFlags.Register(fs)
	file := fs.String("file", "-", "JSON-lines file of events; - means stdin")
	prefix := fs.String("prefix", events.DefaultSubjectPrefix, "subject prefix")
	chunk := fs.Int("chunk", 1000, "events per pipelined publish (1 to 4000)")
	maxBytes := fs.Int("max-event-bytes", events.DefaultMaxEventBytes, "largest accepted event, in bytes")
	dryRun := fs.Bool("dry-run", false, "validate only; publish nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	switch {
	case !events.ValidPrefix(*prefix):
		return cli.Usagef("--prefix %q is not a subject prefix (dot-separated tokens, no wildcards or spaces)", *prefix)
	case *chunk < 1 || *chunk > 4000:
		return cli.Usagef("--chunk %d is not between 1 and 4000", *chunk)
	case *maxBytes < 1:
		return cli.Usagef("--max-event-bytes %d must be positive", *maxBytes)
	}
	in := io.Reader(os.Stdin)
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return cli.Usagef("--file: %v", err)
		}
		defer f.Close()
		in = f
	}
	log, err := cli.NewLogger(stderr, "text", "info")
	if err != nil {
		return err
	}
	var pub *events.Publisher
	if !*dryRun {
		natsFlags.Name = "switchyard publish"
		nc, js, err := natsFlags.Connect(ctx, log)
		if err != nil {
			return err
		}
		defer nc.Close()
		pub = events.NewPublisher(js, *prefix)
	}

	decoder := events.Decoder{MaxEventBytes: *maxBytes}
	lines := newLineReader(in, *maxBytes)
	var (
		batch              []events.Event
		total, bad, posted int
	)
	flush := func() error {
		if pub == nil || len(batch) == 0 {
			batch = batch[:0]
			return nil
		}
		if err := pub.PublishAll(ctx, batch); err != nil {
			if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
				return fmt.Errorf("no stream captures %s (run switchyard subs ensure): %w", events.SubjectFilter(*prefix), err)
			}
			return fmt.Errorf("after %d events published: %w", posted, err)
		}
		posted += len(batch)
		batch = batch[:0]
		return nil
	}
	for {
		line, n, tooLong, err := lines.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", *file, err)
		}
		if !tooLong && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		total++
		var ev events.Event
		if tooLong {
			err = fmt.Errorf("invalid event: line is longer than --max-event-bytes %d", *maxBytes)
		} else {
			ev, err = decoder.Decode(line)
		}
		if err != nil {
			bad++
			fmt.Fprintf(stderr, "line %d: %v\n", n, err)
			continue
		}
		batch = append(batch, ev)
		if len(batch) >= *chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	verb := "published"
	if *dryRun {
		verb, posted = "valid (dry run, nothing published)", total-bad
	}
	fmt.Fprintf(stdout, "%d events %s, %d invalid lines, %d lines read\n", posted, verb, bad, total)
	if bad > 0 {
		return cli.CheckFailedf("%d of %d lines are not valid events (see above); they were not published", bad, total)
	}
	return nil
}

// lineReader reads lines without holding more than limit bytes of one line:
// a longer line is reported as too long and its rest skipped.
type lineReader struct {
	r     *bufio.Reader
	limit int
	n     int
	buf   []byte
}

func newLineReader(r io.Reader, limit int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), limit: limit}
}

// next returns the next line without its line ending, its 1-based number,
// and whether it exceeded the limit. It returns io.EOF after the last line.
func (l *lineReader) next() (line []byte, n int, tooLong bool, err error) {
	l.buf = l.buf[:0]
	for {
		frag, err := l.r.ReadSlice('\n')
		if !tooLong {
			if len(l.buf)+len(frag) > l.limit+2 { // +2: the line ending
				tooLong, l.buf = true, l.buf[:0]
			} else {
				l.buf = append(l.buf, frag...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(l.buf) == 0 && !tooLong {
				return nil, 0, false, io.EOF
			}
		case err != nil:
			return nil, 0, false, err
		}
		l.n++
		return bytes.TrimRight(l.buf, "\r\n"), l.n, tooLong, nil
	}
}
