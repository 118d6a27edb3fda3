package quickstart

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/term"

	"github.com/switchyard/switchyard/flags"
	"github.com/switchyard/switchyard/migrator"
	"github.com/switchyard/switchyard/subscriptions"
	"github.com/switchyard/switchyard/workers"
)

// display shows, every Refresh, what each part of the quickstart did.
type display struct {
	cfg       Config
	js        jetstream.JetStream
	state     *migrator.State
	flags     *flags.Store
	startedAt time.Time

	producer     *producer
	reads        *readDemo
	legacy       atomic.Pointer[workers.Worker]
	target       atomic.Pointer[workers.Worker]
	verify       atomic.Pointer[migrator.VerifyResult]
	phase        atomic.Value // string
	consoleURL   string
	consoleUsers map[string]string

	drawn int // lines of the last block, to redraw in place on a terminal
}

func (d *display) setPhase(s string) { d.phase.Store(s) }

func (d *display) loop(ctx context.Context) error {
	tick := time.NewTicker(d.cfg.Refresh)
	defer tick.Stop()
	for {
		d.draw(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// final prints the last block after everything stopped.
func (d *display) final() {
	d.drawn = 0
	fmt.Fprintln(d.cfg.Out, "stopped; everything is kept under", d.cfg.Dir, "and the next run resumes from there")
}

func (d *display) draw(ctx context.Context) {
	var b strings.Builder
	elapsed := time.Since(d.startedAt).Truncate(time.Second)
	phase, _ := d.phase.Load().(string)
	stored := "?"
	if rec, err := d.state.Phase(ctx); err == nil {
		stored = string(rec.Phase)
	}
	fmt.Fprintf(&b, "switchyard dev · %s · migration phase %s\n", elapsed, stored)
	fmt.Fprintf(&b, "  now        %s\n", phase)
	if d.producer != nil {
		fmt.Fprintf(&b, "  producer   %d events published (%d/s, clients %s)\n", d.producer.Published(), d.cfg.Rate, strings.Join(DemoClients, ", "))
	}
	d.subscriptionLine(ctx, &b, "legacy", LegacyConsumer, d.legacy.Load(), "legacy.db")
	d.subscriptionLine(ctx, &b, "target", TargetConsumer, d.target.Load(), "target.db")
	d.backfillLine(ctx, &b)
	if v := d.verify.Load(); v != nil {
		verdict := "clean"
		if !v.Clean {
			verdict = fmt.Sprintf("%d differences %v", v.Differences, v.ByKind)
		}
		fmt.Fprintf(&b, "  verify     %s: %d legacy rows vs %d target rows, %d settled in flight (%s ago)\n",
			verdict, v.RowsSource, v.RowsTarget, v.Settled, time.Since(v.FinishedAt).Truncate(time.Second))
	}
	if d.reads != nil {
		snap := d.reads.snapshot()
		clients := make([]string, 0, len(snap))
		for c := range snap {
			clients = append(clients, c)
		}
		sort.Strings(clients)
		parts := make([]string, 0, len(clients))
		for _, c := range clients {
			r := snap[c]
			if r.err != nil {
				parts = append(parts, fmt.Sprintf("%s: error", c))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %s→%s(%d)", c, r.stage, r.served, r.rows))
		}
		fmt.Fprintf(&b, "  reads      %s\n", strings.Join(parts, "  "))
	}
	if d.consoleURL != "" {
		fmt.Fprintf(&b, "  console    %s  (operator / %s, viewer / %s)\n", d.consoleURL, d.consoleUsers["operator"], d.consoleUsers["viewer"])
	}
	fmt.Fprintf(&b, "  elsewhere  switchyard status --nats nats://127.0.0.1:%d   ·   Ctrl-C stops, a second run resumes\n", d.cfg.NATSPort)
	d.write(b.String())
}

func (d *display) subscriptionLine(ctx context.Context, b *strings.Builder, label, consumer string, w *workers.Worker, file string) {
	if w == nil {
		fmt.Fprintf(b, "  %-10s not subscribed yet\n", label)
		return
	}
	s := w.Stats()
	st, err := subscriptions.Inspect(ctx, d.js, Stream, consumer)
	if err != nil {
		fmt.Fprintf(b, "  %-10s applied %d into %s (status unavailable: %v)\n", label, s.Applied, file, err)
		return
	}
	fmt.Fprintf(b, "  %-10s applied %d, fenced %d into %s · lag %d · dead letters %d · starts at seq %d\n",
		label, s.Applied, s.Skipped, file, st.Lag, st.DeadLetters, st.StartSeq)
}

func (d *display) backfillLine(ctx context.Context, b *strings.Builder) {
	_, progress, found, err := d.state.BackfillProgress(ctx)
	if err != nil || !found {
		fmt.Fprintf(b, "  backfill   not started\n")
		return
	}
	for _, p := range progress {
		state := "copying"
		if p.Done {
			state = "done"
		}
		fmt.Fprintf(b, "  backfill   %s %s: %d scanned, %d inserted, %d already in target\n", p.Entity, state, p.Scanned, p.Inserted, p.Skipped)
	}
}

// write prints a block; on a terminal it replaces the previous block.
func (d *display) write(block string) {
	if f, ok := d.cfg.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) && d.drawn > 0 {
		fmt.Fprintf(f, "\033[%dA\033[J", d.drawn)
	} else if d.drawn > 0 {
		io.WriteString(d.cfg.Out, "\n")
	}
	io.WriteString(d.cfg.Out, block)
	d.drawn = strings.Count(block, "\n")
}
