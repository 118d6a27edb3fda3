package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

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
	// version (HeaderOriginalSequence), under producer versions the event's
	// own version: an old event can never overwrite newer state.
	// Empty means VersionFromStream.
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
	// BatchSize is how many dead letters go into one Apply. Zero means 500.
	BatchSize int
}

// ErrReplaySelection: a Replay names neither one dead letter (Seq) nor all
// of them (All), or both.
var ErrReplaySelection = errors.New("replay needs either one dead-letter sequence (1 or more) or all dead letters, not both")

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

// Run replays the dead letters: each is decoded with the same rules as the
// workers, checked against its original subject, given its version, and the
// valid ones are applied to Sink in batches (one transaction per batch). A
// dead letter is deleted from the dead-letter stream only after the batch
// that applied it committed. A crash in between leaves it there; replaying
// it again is a no-op thanks to the version fence and the ledger.
//
// Run returns an error, with what was done so far, when the dead-letter
// stream cannot be read or the store fails other than by rejecting a write;
// an error matching ErrNotFound when the consumer does not exist, or, with
// Seq set, when that dead letter does not exist. Still-invalid events are
// not errors: they are in Failed.
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
	if r.VersionSource == "" {
		r.VersionSource = events.VersionFromStream
	}
	if r.BatchSize <= 0 {
		r.BatchSize = 500
	}
	dlq, err := js.Stream(ctx, DLQStreamName(r.Stream))
	if err != nil {
		if r.Seq == 0 && errors.Is(err, jetstream.ErrStreamNotFound) {
			return res, nil // no dead-letter stream: nothing to replay
		}
		return res, fmt.Errorf("dead-letter stream of %s: %w", r.Stream, notFound(err))
	}
	if r.Seq > 0 {
		dl, err := GetDeadLetter(ctx, js, r.Stream, r.Consumer, r.Seq)
		if err != nil {
			return res, err
		}
		return res, r.replayBatch(ctx, dlq, []DeadLetter{dl}, &res)
	}
	var after uint64
	for {
		batch, err := ListDeadLetters(ctx, js, r.Stream, r.Consumer, after, r.BatchSize)
		if err != nil || len(batch) == 0 {
			return res, err
		}
		if err := r.replayBatch(ctx, dlq, batch, &res); err != nil {
			return res, err
		}
		after = batch[len(batch)-1].Seq
	}
}

// checkConsumer fails with ErrNotFound when the consumer neither exists nor
// has dead letters (a misspelt name). The dead letters of a consumer that was
// deleted can still be replayed.
func (r Replay) checkConsumer(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.Consumer(ctx, r.Stream, r.Consumer)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("consumer %s on stream %s: %w", r.Consumer, r.Stream, err)
	}
	depth, derr := DeadLetterDepth(ctx, js, r.Stream, r.Consumer)
	if derr != nil {
		return fmt.Errorf("dead letters of %s on stream %s: %w", r.Consumer, r.Stream, derr)
	}
	if depth == 0 {
		return fmt.Errorf("consumer %s on stream %s: %w: no such consumer, and no dead letters recorded for it", r.Consumer, r.Stream, ErrNotFound)
	}
	return nil
}

// replayBatch applies the valid dead letters of batch in one Apply and
// deletes them from the dead-letter stream.
func (r Replay) replayBatch(ctx context.Context, dlq jetstream.Stream, batch []DeadLetter, res *ReplayResult) error {
	writes := make([]stores.Write, 0, len(batch))
	seqs := make([]uint64, 0, len(batch))
	for _, dl := range batch {
		w, err := r.write(dl)
		if err != nil {
			res.Failed = append(res.Failed, ReplayFailure{Seq: dl.Seq, Reason: err.Error()})
			continue
		}
		writes, seqs = append(writes, w), append(seqs, dl.Seq)
	}
	for len(writes) > 0 {
		applied, err := r.Sink.Apply(ctx, writes)
		var rejected *stores.RejectError
		if errors.As(err, &rejected) && rejected.Index >= 0 && rejected.Index < len(writes) {
			// Nothing was written; set the rejected write aside and apply
			// the rest.
			i := rejected.Index
			res.Failed = append(res.Failed, ReplayFailure{Seq: seqs[i], Reason: rejected.Error()})
			writes = append(writes[:i], writes[i+1:]...)
			seqs = append(seqs[:i], seqs[i+1:]...)
			continue
		}
		if err != nil {
			return fmt.Errorf("replay dead letters of %s: apply: %w", r.Consumer, err)
		}
		res.Store.Add(applied)
		break
	}
	for _, seq := range seqs {
		if err := dlq.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("replayed dead letter %d of %s but could not delete it: %w", seq, r.Consumer, err)
		}
		res.Replayed++
	}
	return nil
}

// write turns one dead letter into the write the worker would have made.
func (r Replay) write(dl DeadLetter) (stores.Write, error) {
	ev, err := r.Decoder.Decode(dl.Payload)
	if err != nil {
		return stores.Write{}, err
	}
	if dl.OriginalSubject == "" {
		return stores.Write{}, fmt.Errorf("dead letter has no %s header", HeaderOriginalSubject)
	}
	if err := events.CheckSubject(r.SubjectPrefix, dl.OriginalSubject, ev); err != nil {
		return stores.Write{}, err
	}
	seq, err := strconv.ParseUint(dl.Header.Get(HeaderOriginalSequence), 10, 64)
	if r.VersionSource == events.VersionFromStream && (err != nil || seq == 0) {
		return stores.Write{}, fmt.Errorf("dead letter has no valid %s header, so its version is unknown", HeaderOriginalSequence)
	}
	version, err := r.VersionSource.Resolve(ev, seq)
	if err != nil {
		return stores.Write{}, err
	}
	w := stores.Write{
		Entity:  ev.Entity,
		Key:     ev.Key,
		Client:  ev.Client,
		Version: version,
		Deleted: ev.Op == events.OpDelete,
		Data:    ev.Data,
	}
	if r.VersionSource == events.VersionFromStream {
		// As the workers do: the ledger makes a second replay, or a replay
		// of an event the stream also delivered again, a no-op.
		w.EventID = ev.ID
	}
	return w, nil
}
