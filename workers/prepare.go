package workers

import (
	"encoding/json"
	"fmt"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

// preparer turns delivered messages into writes, or marks them poison.
type preparer struct {
	decoder       events.Decoder
	prefix        string
	source        events.VersionSource
	maxEventBytes int
	maxDeliveries uint64
}

func newPreparer(cfg Config) preparer {
	return preparer{
		// nats.go gives every message a payload buffer of its own, so the
		// documents go to the store as slices of it, not copies.
		decoder:       events.Decoder{MaxEventBytes: cfg.MaxEventBytes, ShareData: true},
		prefix:        cfg.SubjectPrefix,
		source:        cfg.VersionSource,
		maxEventBytes: cfg.MaxEventBytes,
		maxDeliveries: uint64(cfg.MaxDeliveries),
	}
}

// prepare fills m's sequence, event and write from m.Msg, or marks m poison
// with the reason. It never fails otherwise.
func (p preparer) prepare(m *Message) {
	if seq, delivered, ok := ackSequence(m.Msg.Reply()); ok {
		m.Sequence, m.Delivered = seq, delivered
	} else {
		meta, err := m.Msg.Metadata()
		if err != nil {
			m.MarkPoison(KindInvalid, fmt.Errorf("message has no JetStream metadata: %w", err))
			return
		}
		m.Sequence, m.Delivered = meta.Sequence.Stream, meta.NumDelivered
	}
	if p.maxDeliveries > 0 && m.Delivered > p.maxDeliveries {
		m.MarkPoison(KindMaxDeliveries, fmt.Errorf("delivered %d times, above the limit of %d", m.Delivered, p.maxDeliveries))
		return
	}
	data := m.Msg.Data()
	if len(data) > p.maxEventBytes {
		m.MarkPoison(KindTooLarge, fmt.Errorf("payload is %d bytes, above the limit of %d", len(data), p.maxEventBytes))
		return
	}
	ev, err := p.decoder.Decode(data)
	if err != nil {
		// Only the failure path pays for telling bad JSON from a bad envelope.
		kind := KindInvalid
		if !json.Valid(data) {
			kind = KindDecode
		}
		m.MarkPoison(kind, err)
		return
	}
	m.Event = ev
	if err := events.CheckSubject(p.prefix, m.Msg.Subject(), ev); err != nil {
		m.MarkPoison(KindInvalid, err)
		return
	}
	version, err := p.source.Resolve(ev, m.Sequence)
	if err != nil {
		m.MarkPoison(KindVersion, err)
		return
	}
	m.Write = stores.Write{
		Entity:  ev.Entity,
		Key:     ev.Key,
		Client:  ev.Client,
		Version: version,
		Deleted: ev.Op == events.OpDelete,
		Data:    ev.Data,
	}
	if p.source == events.VersionFromStream {
		// A producer retry that reached the stream after its duplicate
		// window carries the same id under a new, higher sequence; the
		// store's ledger drops it. With producer versions the fence alone
		// makes retries harmless.
		m.Write.EventID = ev.ID
	}
}
