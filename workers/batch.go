package workers

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// Poison kinds, the values of the dead-letter header
// subscriptions.HeaderReasonKind and of the "kind" metric label.
const (
	KindDecode        = "decode"         // the payload is not JSON
	KindInvalid       = "invalid"        // JSON, but not a valid envelope, or on the wrong subject
	KindVersion       = "version"        // contradicts the stream's version source
	KindTooLarge      = "too-large"      // above Config.MaxEventBytes
	KindRejected      = "rejected"       // the store can never hold the write
	KindMaxDeliveries = "max-deliveries" // delivered more than Config.MaxDeliveries times
)

// Disposition is what happened to a message of a batch.
type Disposition uint8

const (
	// Pending messages are settled by the worker loop after the handler
	// returns: acknowledged when it returned nil, negatively acknowledged
	// with a delay when it returned an error.
	Pending Disposition = iota
	// DeadLettered messages were copied to the dead-letter stream and then
	// terminated.
	DeadLettered
	// Requeued messages were negatively acknowledged by a middleware (their
	// dead-letter copy could not be stored) and will be redelivered.
	Requeued
)

// Message is one delivered message and what the worker made of it.
type Message struct {
	// Msg is the JetStream message. Handlers must not acknowledge it: the
	// worker loop and the dead-letter middleware do, exactly once.
	Msg jetstream.Msg
	// Sequence is the message's stream sequence, Delivered its delivery
	// count (1 on first delivery).
	Sequence  uint64
	Delivered uint64
	// Event is the decoded event; its zero value when the message is poison
	// before decoding succeeded.
	Event events.Event
	// Write is what the event asks of the store; meaningful only when
	// Poison is nil.
	Write stores.Write
	// Poison, when set, says why the message can never be applied; such a
	// message is dead-lettered, never applied.
	Poison *Poison

	disposition Disposition
}

// Poison is the reason a message is dead-lettered.
type Poison struct {
	// Kind is one of the Kind* constants.
	Kind string
	// Err is the error that made the message poison.
	Err error
}

// MarkPoison sets the message aside for the dead-letter stream. The first
// reason wins.
func (m *Message) MarkPoison(kind string, err error) {
	if m.Poison == nil {
		m.Poison = &Poison{Kind: kind, Err: err}
	}
}

// Disposition reports what happened to the message so far.
func (m *Message) Disposition() Disposition { return m.disposition }

// Live reports whether the message is still to be applied: not poison and
// not settled.
func (m *Message) Live() bool { return m.Poison == nil && m.disposition == Pending }

// Batch is the unit of work: the messages of one transaction and what the
// store reported for them. A Batch is reused by the worker after it is
// settled; handlers must not keep references to it.
type Batch struct {
	// Messages in delivery order.
	Messages []Message
	// Result is what the store did with the live writes of the last
	// successful Apply.
	Result stores.ApplyResult

	// scratch, reused across batches to avoid allocations.
	writes []stores.Write
	index  []int
}

func newBatch(size int) *Batch {
	return &Batch{
		Messages: make([]Message, 0, size),
		writes:   make([]stores.Write, 0, size),
		index:    make([]int, 0, size),
	}
}

// reset empties b for reuse, dropping references to old messages.
func (b *Batch) reset() {
	clear(b.Messages)
	b.Messages = b.Messages[:0]
	clear(b.writes)
	b.writes = b.writes[:0]
	b.index = b.index[:0]
	b.Result = stores.ApplyResult{}
}

// count returns how many messages have the given disposition.
func (b *Batch) count(d Disposition) int {
	n := 0
	for i := range b.Messages {
		if b.Messages[i].disposition == d {
			n++
		}
	}
	return n
}

// eventIDs returns up to limit event ids of pending messages, for logs.
func (b *Batch) eventIDs(limit int) []string {
	ids := make([]string, 0, min(limit, len(b.Messages)))
	for i := range b.Messages {
		if len(ids) == limit {
			break
		}
		if id := b.Messages[i].Event.ID; id != "" && b.Messages[i].disposition == Pending {
			ids = append(ids, id)
		}
	}
	return ids
}
