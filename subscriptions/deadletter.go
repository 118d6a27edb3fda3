package subscriptions

// Headers of a dead letter. The payload is the original message's payload,
// byte for byte; the original headers are kept, except Nats-Msg-Id, which is
// replaced so that a retried dead-letter publish deduplicates on
// "<consumer>:<stream sequence>" and is kept as HeaderOriginalMsgID.
const (
	// HeaderReason says why the message was dead-lettered.
	HeaderReason = "Switchyard-Reason"
	// HeaderReasonKind is a stable, machine-readable class of the reason:
	// "decode", "invalid", "version", "rejected", "too-large" or
	// "max-deliveries".
	HeaderReasonKind = "Switchyard-Reason-Kind"
	// HeaderOriginalSubject is the subject the event was published on.
	HeaderOriginalSubject = "Switchyard-Original-Subject"
	// HeaderOriginalSequence is the event's stream sequence in the source
	// stream. With stream-sequence versions it stays the event's version
	// when the dead letter is replayed, so a replay never overwrites newer
	// state.
	HeaderOriginalSequence = "Switchyard-Original-Sequence"
	// HeaderOriginalMsgID is the original Nats-Msg-Id.
	HeaderOriginalMsgID = "Switchyard-Original-Msg-Id"
	// HeaderDeliveryCount is how many times the message had been delivered.
	HeaderDeliveryCount = "Switchyard-Delivery-Count"
	// HeaderStream and HeaderConsumer name the subscription that gave up.
	HeaderStream   = "Switchyard-Stream"
	HeaderConsumer = "Switchyard-Consumer"
	// HeaderFailedAt is when the message was dead-lettered (RFC 3339).
	HeaderFailedAt = "Switchyard-Failed-At"
)
