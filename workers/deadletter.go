package workers

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/subscriptions"
)

// maxReasonBytes bounds the reason header: a producer's megabyte-long key
// must not make the dead letter itself too large.
const maxReasonBytes = 1024

// DeadLetterer copies poison messages to the dead-letter stream of their
// subscription and terminates the originals once the copy is stored.
type DeadLetterer struct {
	js       jetstream.JetStream
	stream   string
	consumer string
	subject  string
	timeout  time.Duration
	backoff  Backoff
	log      *slog.Logger
	now      func() time.Time
}

// NewDeadLetterer returns the dead-letterer of one subscription. The
// dead-letter stream (subscriptions.EnsureDLQ) must exist; without it every
// poison message is requeued and logged.
func NewDeadLetterer(js jetstream.JetStream, cfg Config, log *slog.Logger) *DeadLetterer {
	cfg = cfg.WithDefaults()
	return &DeadLetterer{
		js: js, stream: cfg.Stream, consumer: cfg.Consumer,
		subject: subscriptions.DLQSubject(cfg.Stream, cfg.Consumer),
		timeout: cfg.DeadLetterTimeout, backoff: cfg.Backoff, log: log, now: time.Now,
	}
}

// Middleware routes poison: it calls next, and while next fails because the
// store rejected one write (marking that message poison), calls it again
// with the rest, so one bad write never blocks its batch. Then it
// dead-letters every poison message of the batch, whether or not next
// succeeded (poison stays poison). It returns next's last error.
//
// A message whose copy the dead-letter stream acknowledged is terminated
// (Disposition DeadLettered). A message whose copy could not be stored is
// negatively acknowledged with a delay (Disposition Requeued) and is never
// lost.
func (d *DeadLetterer) Middleware() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, b *Batch) error {
			err := setRejectsAside(ctx, b, next)
			d.publish(ctx, b)
			return err
		}
	}
}

// publish dead-letters every pending poison message of b: all copies are
// published pipelined, then each acknowledgement is awaited.
func (d *DeadLetterer) publish(ctx context.Context, b *Batch) {
	type pending struct {
		m      *Message
		future jetstream.PubAckFuture
		err    error
	}
	var todo []pending
	for i := range b.Messages {
		m := &b.Messages[i]
		if m.Poison == nil || m.disposition != Pending {
			continue
		}
		p := pending{m: m}
		p.future, p.err = d.js.PublishMsgAsync(d.letter(m))
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		return
	}
	wait, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	for _, p := range todo {
		if p.err == nil {
			select {
			case <-p.future.Ok():
			case p.err = <-p.future.Err():
			case <-wait.Done():
				p.err = fmt.Errorf("no acknowledgement from the dead-letter stream: %w", wait.Err())
			}
		}
		d.settle(p.m, p.err)
	}
}

func (d *DeadLetterer) settle(m *Message, publishErr error) {
	attrs := []any{
		"kind", m.Poison.Kind, "reason", m.Poison.Err.Error(), "event_id", m.Event.ID,
		"subject", m.Msg.Subject(), "stream_seq", m.Sequence, "deliveries", m.Delivered,
	}
	if publishErr != nil {
		delay := d.backoff.Delay(int64(max(m.Delivered, 1)))
		_ = m.Msg.NakWithDelay(delay) // if lost, the ack wait redelivers it
		m.disposition = Requeued
		d.log.Error("could not dead-letter a poison message; it will be redelivered",
			append(attrs, "retry_in", delay, "err", publishErr)...)
		return
	}
	// The copy is stored; a lost Term only means one more redelivery, whose
	// copy the dead-letter stream drops as a duplicate (same Nats-Msg-Id).
	_ = m.Msg.Term()
	m.disposition = DeadLettered
	d.log.Warn("dead-lettered a poison message", append(attrs, "dead_letter_subject", d.subject)...)
}

// letter builds the dead-letter copy of m: the original payload byte for
// byte, the original headers, and the Switchyard-* headers.
func (d *DeadLetterer) letter(m *Message) *nats.Msg {
	out := nats.NewMsg(d.subject)
	out.Data = m.Msg.Data()
	for k, vs := range m.Msg.Headers() {
		out.Header[k] = append([]string(nil), vs...)
	}
	if id := out.Header.Get(jetstream.MsgIDHeader); id != "" {
		out.Header.Set(subscriptions.HeaderOriginalMsgID, id)
	}
	out.Header.Set(jetstream.MsgIDHeader, d.consumer+":"+strconv.FormatUint(m.Sequence, 10))
	out.Header.Set(subscriptions.HeaderReason, headerText(m.Poison.Err.Error()))
	out.Header.Set(subscriptions.HeaderReasonKind, m.Poison.Kind)
	out.Header.Set(subscriptions.HeaderOriginalSubject, m.Msg.Subject())
	out.Header.Set(subscriptions.HeaderOriginalSequence, strconv.FormatUint(m.Sequence, 10))
	out.Header.Set(subscriptions.HeaderDeliveryCount, strconv.FormatUint(m.Delivered, 10))
	out.Header.Set(subscriptions.HeaderStream, d.stream)
	out.Header.Set(subscriptions.HeaderConsumer, d.consumer)
	out.Header.Set(subscriptions.HeaderFailedAt, d.now().UTC().Format(time.RFC3339Nano))
	return out
}

// headerText makes s safe as a header value: one line, bounded.
func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReasonBytes {
		cut := maxReasonBytes
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
