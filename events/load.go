package events

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LoadConfig configures Load.
type LoadConfig struct {
	// Publisher publishes the valid events; nil only validates (a dry run).
	Publisher *Publisher
	// Name names the input in read errors, such as a file name or "-".
	Name string
	// MaxEventBytes bounds a line; longer lines are invalid without being
	// held in memory. Zero means DefaultMaxEventBytes.
	MaxEventBytes int
	// Chunk is the number of events per pipelined publish; zero means 1000.
	Chunk int
	// Invalid is called for each invalid line with its 1-based number.
	Invalid func(line int, err error)
}

// LoadResult counts what Load read and published.
type LoadResult struct {
	// Lines are the non-blank lines read; Invalid of them were refused.
	Lines, Invalid int
	// Published are the events the stream stored; with no Publisher, the
	// valid ones.
	Published int
}

// Load reads one event per line (JSON lines, blank lines ignored), checks
// each with the workers' rules and publishes the valid ones in pipelined
// chunks. Invalid lines go to cfg.Invalid and are skipped. Publishing the
// same input again is safe: event ids deduplicate in the stream's window.
func Load(ctx context.Context, r io.Reader, cfg LoadConfig) (LoadResult, error) {
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = DefaultMaxEventBytes
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = 1000
	}
	l := loader{cfg: cfg, decoder: Decoder{MaxEventBytes: cfg.MaxEventBytes}, lines: newLineReader(r, cfg.MaxEventBytes)}
	for {
		done, err := l.nextLine(ctx)
		if err != nil {
			return l.res, err
		}
		if done {
			break
		}
	}
	if err := l.flush(ctx); err != nil {
		return l.res, err
	}
	if cfg.Publisher == nil {
		l.res.Published = l.res.Lines - l.res.Invalid
	}
	return l.res, nil
}

// loader is one Load in progress.
type loader struct {
	cfg     LoadConfig
	decoder Decoder
	lines   *lineReader
	batch   []Event
	res     LoadResult
}

// nextLine handles one line; done is true after the last.
func (l *loader) nextLine(ctx context.Context) (done bool, err error) {
	line, n, tooLong, err := l.lines.next()
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", l.cfg.Name, err)
	}
	if !tooLong && len(bytes.TrimSpace(line)) == 0 {
		return false, nil
	}
	l.res.Lines++
	var ev Event
	if tooLong {
		err = fmt.Errorf("invalid event: line is longer than --max-event-bytes %d", l.cfg.MaxEventBytes)
	} else {
		ev, err = l.decoder.Decode(line)
	}
	if err != nil {
		l.res.Invalid++
		if l.cfg.Invalid != nil {
			l.cfg.Invalid(n, err)
		}
		return false, nil
	}
	l.batch = append(l.batch, ev)
	if len(l.batch) >= l.cfg.Chunk {
		return false, l.flush(ctx)
	}
	return false, nil
}

// flush publishes the batch.
func (l *loader) flush(ctx context.Context) error {
	p := l.cfg.Publisher
	if p == nil || len(l.batch) == 0 {
		l.batch = l.batch[:0]
		return nil
	}
	if err := p.PublishAll(ctx, l.batch); err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
			return fmt.Errorf("no stream captures %s (run switchyard subs ensure): %w", SubjectFilter(p.prefix), err)
		}
		return fmt.Errorf("after %d events published: %w", l.res.Published, err)
	}
	l.res.Published += len(l.batch)
	l.batch = l.batch[:0]
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
