// Package events defines the Switchyard event envelope: the public contract
// between producers (in any language) and the subscription workers.
//
// An event is a JSON object that carries the full state of one record after a
// change (an upsert) or the fact that the record is gone (a delete). Events are
// published to JetStream on subjects "<prefix>.<entity>.<op>" with the event id
// in the Nats-Msg-Id header, so the stream drops duplicate publishes inside its
// duplicate window. The wire format is specified in docs/events.md.
//
// Decode is strict: unknown fields, missing fields and malformed values are
// rejected with a *FieldError that names the field and the reason, and that
// matches ErrInvalid with errors.Is. Workers route such events to the
// dead-letter stream instead of blocking the stream.
package events
