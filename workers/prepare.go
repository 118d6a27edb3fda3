package workers

import (
	"fmt"

	"github.com/switchyard/switchyard/events"
)

// preparer turns delivered messages into writes, or marks them poison.
type preparer struct {
	translation   translation
	maxDeliveries uint64
}

func newPreparer(cfg Config) preparer {
	return preparer{
		// nats.go gives every message a payload buffer of its own, so the
		// documents go to the store as slices of it, not copies.
		translation:   newTranslation(events.Decoder{MaxEventBytes: cfg.MaxEventBytes, ShareData: true}, cfg.SubjectPrefix, cfg.VersionSource),
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
	if kind, err := p.translation.translate(m.Msg.Data(), m.Msg.Subject(), m.Sequence, &m.Event, &m.Write); err != nil {
		m.MarkPoison(kind, err)
	}
}
