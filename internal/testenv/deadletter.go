package testenv

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/subscriptions"
)

// DeadLetter publishes a dead letter of consumer on the EVENTS stream as a
// worker would: payload with every Switchyard header, the original sequence
// origSeq and subject. It returns the dead letter's sequence.
func DeadLetter(t testing.TB, js jetstream.JetStream, consumer, kind, reason, subject string, origSeq uint64, payload string) uint64 {
	t.Helper()
	msg := nats.NewMsg(subscriptions.DLQSubject("EVENTS", consumer))
	msg.Data = []byte(payload)
	msg.Header.Set(jetstream.MsgIDHeader, consumer+":"+strconv.FormatUint(origSeq, 10))
	msg.Header.Set(subscriptions.HeaderReason, reason)
	msg.Header.Set(subscriptions.HeaderReasonKind, kind)
	msg.Header.Set(subscriptions.HeaderOriginalSubject, subject)
	msg.Header.Set(subscriptions.HeaderOriginalSequence, strconv.FormatUint(origSeq, 10))
	msg.Header.Set(subscriptions.HeaderOriginalMsgID, "orig-"+strconv.FormatUint(origSeq, 10))
	msg.Header.Set(subscriptions.HeaderDeliveryCount, "1")
	msg.Header.Set(subscriptions.HeaderStream, "EVENTS")
	msg.Header.Set(subscriptions.HeaderConsumer, consumer)
	msg.Header.Set(subscriptions.HeaderFailedAt, "2026-01-02T03:04:05Z")
	ack, err := js.PublishMsg(Context(t), msg)
	if err != nil {
		t.Fatalf("publish dead letter: %v", err)
	}
	return ack.Sequence
}

// UpsertJSON is the payload of a "task.saved" upsert of tasks/key by client
// acme with the given title, and the given version unless it is 0.
func UpsertJSON(id, key string, version int64, title string) string {
	v := ""
	if version > 0 {
		v = fmt.Sprintf(`,"version":%d`, version)
	}
	return fmt.Sprintf(`{"id":%q,"type":"task.saved","entity":"tasks","key":%q,"client":"acme","op":"upsert"%s,"occurred_at":"2026-01-02T03:04:05Z","data":{"title":%q}}`, id, key, v, title)
}
