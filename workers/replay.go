package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/jsonout"
	"github.com/switchyard/switchyard/internal/kinderr"
	"github.com/switchyard/switchyard/internal/textlimit"
	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/subscriptions"
)

// DefaultReplayBatchSize is how many dead letters go into one Apply when
// Replay.BatchSize is zero.
const DefaultReplayBatchSize = 500

// Replay is how dead letters of one consumer are applied after a fix.
type Replay struct {
	// Stream and Consumer name the subscription whose dead letters are
	// replayed. Required.
	Stream, Consumer string
	// Sink is the consumer's store. Dead letters are applied to it directly,
	// so no other subscription of the stream sees them again. Required.
	Sink stores.Writer
	// VersionSource must be the stream's setting. Under stream-sequence
	// versions a replayed event keeps its original stream sequence as its
	// version (subscriptions.HeaderOriginalSequence), under producer
	// versions the event's own version: an old event can never overwrite
	// newer state. Empty means VersionFromStream.
	VersionSource events.VersionSource
	// Decoder decodes with the same rules as the workers; raise its
	// MaxEventBytes to replay events dead-lettered as too large.
	Decoder events.Decoder
	// SubjectPrefix is the stream's subject prefix; empty means
	// events.DefaultSubjectPrefix.
	SubjectPrefix string
	// Seq replays only the dead letter with this dead-letter sequence;
	// All replays every dead letter of the consumer. Exactly one is
	// required, so a forgotten sequence never means "everything".
	Seq uint64
	All bool
	// BatchSize is how many dead letters go into one Apply. Zero means
	// DefaultReplayBatchSize.
	BatchSize int
}

// ErrReplaySelection: a Replay names neither one dead letter (Seq) nor all
// of them (All), or both. It matches ErrReplayConfig.
var ErrReplaySelection = kinderr.New(ErrReplayConfig, "replay needs either one dead-letter sequence (1 or more) or all dead letters, not both")

// ReplayFailure is a dead letter that could not be replayed and stays in the
// dead-letter stream.
type ReplayFailure struct {
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

// ReplayResult says what a replay did.
type ReplayResult struct {
	// Replayed dead letters were applied (or lost to the fence, which is
	// the same thing for a stale event) and deleted from the dead-letter
	// stream.
	Replayed int `json:"replayed"`
	// Store counts what the store did with the replayed writes: Skipped
	// ones were older than the stored row, Duplicates already in the ledger.
	Store stores.ApplyResult `json:"store"`
	// Failed dead letters are still invalid or rejected by the store; they
	// stay in the dead-letter stream.
	Failed []ReplayFailure `json:"failed,omitempty"`
}

// Write prints res for an operator (switchyard dlq replay): one line saying
// what was replayed of consumer into sink (a DSN, printed redacted), then
// one line per dead letter kept; or, asJSON, res as indented JSON.
func (res ReplayResult) Write(w io.Writer, consumer, sink string, asJSON bool) error {
	if asJSON {
		return jsonout.Write(w, res)
	}
	fmt.Fprintf(w, "replayed %d dead letters of %s into %s: %d applied, %d older than the stored row, %d already applied\n",
		res.Replayed, consumer, stores.Redact(sink), res.Store.Applied, res.Store.Skipped, res.Store.Duplicates)
	for _, fail := range res.Failed {
		fmt.Fprintf(w, "kept %d: %s\n", fail.Seq, textlimit.OneLine(fail.Reason))
	}
	return nil
}

// Run replays the dead letters: each is turned into a write by the workers'
// own translation (limits, original subject, version, ledger id), and the
// valid ones are applied to Sink in batches (one transaction per batch),
// setting aside a write the store rejects as the workers do. A dead letter
// is deleted from the dead-letter stream only after the batch that applied
// it committed. A crash in between leaves it there; replaying it again is a
// no-op thanks to the version fence and the ledger.
//
// Run returns an error, with what was done so far, when the dead-letter
// stream cannot be read or the store fails other than by rejecting a write;
// an error matching subscriptions.ErrNotFound when the consumer does not
// exist, or, with Seq set, when that dead letter does not exist. Still-invalid
// events are not errors: they are in Failed.
func (r Replay) Run(ctx context.Context, js jetstream.JetStream) (ReplayResult, error) {
	var res ReplayResult
	if r.Stream == "" || r.Consumer == "" || r.Sink == nil {
		return res, errors.New("replay needs a stream, a consumer and a sink")
	}
	if (r.Seq == 0) == !r.All {
		return res, ErrReplaySelection
	}
	if err := r.checkConsumer(ctx, js); err != nil {
		return res, err
	}
	if r.BatchSize <= 0 {
		r.BatchSize = DefaultReplayBatchSize
	}
	dlq, err := subscriptions.DeadLetterStream(ctx, js, r.Stream)
	if err != nil {
		if r.Seq == 0 && errors.Is(err, jetstream.ErrStreamNotFound) {
			return res, nil // no dead-letter stream: nothing to replay
		}
		return res, err
	}
	t := newTranslation(r.Decoder, r.SubjectPrefix, r.VersionSource)
	b := newBatch(r.BatchSize)
	if r.Seq > 0 {
		dl, err := subscriptions.GetDeadLetter(ctx, js, r.Stream, r.Consumer, r.Seq)
		if err != nil {
			return res, err
		}
		return res, r.replayBatch(ctx, dlq, t, b, []subscriptions.DeadLetter{dl}, &res)
	}
	var after uint64
	for {
		batch, err := subscriptions.ListDeadLetters(ctx, js, r.Stream, r.Consumer, after, r.BatchSize)
		if err != nil || len(batch) == 0 {
			return res, err
		}
		if err := r.replayBatch(ctx, dlq, t, b, batch, &res); err != nil {
			return res, err
		}
		after = batch[len(batch)-1].Seq
	}
}

// checkConsumer fails with subscriptions.ErrNotFound when the consumer
// neither exists nor has dead letters (a misspelt name). The dead letters of
// a consumer that was deleted can still be replayed.
func (r Replay) checkConsumer(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.Consumer(ctx, r.Stream, r.Consumer)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("consumer %s on stream %s: %w", r.Consumer, r.Stream, err)
	}
	depth, derr := subscriptions.DeadLetterDepth(ctx, js, r.Stream, r.Consumer)
	if derr != nil {
		return fmt.Errorf("dead letters of %s on stream %s: %w", r.Consumer, r.Stream, derr)
	}
	if depth == 0 {
		return fmt.Errorf("consumer %s on stream %s: %w: no such consumer, and no dead letters recorded for it", r.Consumer, r.Stream, subscriptions.ErrNotFound)
	}
	return nil
}

// replayBatch applies the valid dead letters of letters in one Apply, the
// way the worker applies a batch, and deletes them from the dead-letter
// stream.
func (r Replay) replayBatch(ctx context.Context, dlq jetstream.Stream, t translation, b *Batch, letters []subscriptions.DeadLetter, res *ReplayResult) error {
	b.reset()
	for _, dl := range letters {
		b.Messages = append(b.Messages, Message{Sequence: dl.Seq})
		if err := translateDeadLetter(t, dl, &b.Messages[len(b.Messages)-1]); err != nil {
			res.Failed = append(res.Failed, ReplayFailure{Seq: dl.Seq, Reason: err.Error()})
			b.Messages = b.Messages[:len(b.Messages)-1]
		}
	}
	if err := setRejectsAside(ctx, b, ApplyHandler(r.Sink)); err != nil {
		return fmt.Errorf("replay dead letters of %s: apply: %w", r.Consumer, err)
	}
	res.Store.Add(b.Result)
	for i := range b.Messages {
		m := &b.Messages[i]
		if m.Poison != nil { // rejected by the store
			res.Failed = append(res.Failed, ReplayFailure{Seq: m.Sequence, Reason: m.Poison.Err.Error()})
			continue
		}
		if err := dlq.DeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("replayed dead letter %d of %s but could not delete it: %w", m.Sequence, r.Consumer, err)
		}
		res.Replayed++
	}
	return nil
}

// translateDeadLetter fills m, whose Sequence is the dead letter's, with the
// event and the write the worker would have made of the original message. A
// payload that is itself wrong is the reason first; then missing or
// malformed Switchyard headers.
func translateDeadLetter(t translation, dl subscriptions.DeadLetter, m *Message) error {
	seq, err := strconv.ParseUint(dl.Header.Get(subscriptions.HeaderOriginalSequence), 10, 64)
	if err != nil {
		seq = 0 // unknown: an error under stream versions, unused under producer versions
	}
	_, err = t.translate(dl.Payload, dl.OriginalSubject, seq, &m.Event, &m.Write)
	switch {
	case err == nil || m.Event.ID == "": // applicable, or the payload did not decode
	case dl.OriginalSubject == "":
		err = fmt.Errorf("dead letter has no %s header", subscriptions.HeaderOriginalSubject)
	case errors.Is(err, errNoSequence):
		err = fmt.Errorf("dead letter has no valid %s header, so its version is unknown", subscriptions.HeaderOriginalSequence)
	}
	return err
}
