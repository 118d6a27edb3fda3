package workers

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// errNoSequence: under stream-sequence versions an event whose stream
// sequence is unknown (0) has no version. A delivered message always has
// one; a dead letter without its original sequence does not.
var errNoSequence = errors.New("the event's stream sequence is unknown, so its version is unknown")

// translation is the one rule by which an event becomes a store write: the
// worker applies it to every delivered message and dead-letter replay to
// every dead letter, so the two never disagree on limits, subjects,
// versions or the ledger.
type translation struct {
	decoder       events.Decoder
	maxEventBytes int
	prefix        string
	source        events.VersionSource
}

// newTranslation returns the translation of a stream. Zero values mean the
// defaults: events.DefaultMaxEventBytes, events.DefaultSubjectPrefix and
// events.VersionFromStream.
func newTranslation(decoder events.Decoder, prefix string, source events.VersionSource) translation {
	if decoder.MaxEventBytes <= 0 {
		decoder.MaxEventBytes = events.DefaultMaxEventBytes
	}
	if prefix == "" {
		prefix = events.DefaultSubjectPrefix
	}
	if source == "" {
		source = events.VersionFromStream
	}
	return translation{decoder: decoder, maxEventBytes: decoder.MaxEventBytes, prefix: prefix, source: source}
}

// translate decodes payload, published on subject and stored at stream
// sequence seq, into *ev, and the write it asks of the store into *w: the
// worker fills its message in place, without copies. When it cannot, it
// returns the poison kind (one of the Kind* constants) and why; *ev is then
// still the decoded event if only its subject or version was wrong, so the
// reason can name it, and *w is left as it was.
func (t translation) translate(payload []byte, subject string, seq uint64, ev *events.Event, w *stores.Write) (kind string, err error) {
	if len(payload) > t.maxEventBytes {
		return KindTooLarge, fmt.Errorf("payload is %d bytes, above the limit of %d", len(payload), t.maxEventBytes)
	}
	if *ev, err = t.decoder.Decode(payload); err != nil {
		// Only the failure path pays for telling bad JSON from a bad envelope.
		if !json.Valid(payload) {
			return KindDecode, err
		}
		return KindInvalid, err
	}
	if err := events.CheckSubject(t.prefix, subject, *ev); err != nil {
		return KindInvalid, err
	}
	if t.source == events.VersionFromStream && seq == 0 {
		return KindVersion, errNoSequence
	}
	version, err := t.source.Resolve(*ev, seq)
	if err != nil {
		return KindVersion, err
	}
	*w = stores.Write{
		Entity:  ev.Entity,
		Key:     ev.Key,
		Client:  ev.Client,
		Version: version,
		Deleted: ev.Op == events.OpDelete,
		Data:    ev.Data,
	}
	if t.source == events.VersionFromStream {
		// A producer retry that reached the stream after its duplicate
		// window carries the same id under a new, higher sequence, and a
		// replayed dead letter may have been applied before: the store's
		// ledger drops both. With producer versions the fence alone makes
		// retries harmless.
		w.EventID = ev.ID
	}
	return "", nil
}
