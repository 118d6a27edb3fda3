// Package flags decides, per client, which store serves an application's
// reads while a migration moves them from the legacy store to the target
// store, and keeps that decision safe to change.
//
// A client's read stage is one of:
//
//   - legacy: serve from the legacy store;
//   - shadow: serve from legacy, also read the target and compare;
//   - target: serve from the target store;
//   - target-shadow: serve from the target, also read legacy and compare.
//
// The stage of a client comes, in order of precedence, from a per-client
// override, from a percentage rollout hashed stably by client id, or from the
// default stage. All three live in one NATS key-value bucket (Store), with
// optimistic concurrency on every update and the bucket's history as the
// change history. Every change is also appended to an audit stream
// (AuditLog) with who, when, from, to and why.
//
// Applications read through reads.Router, which asks an OpenFeature client
// for the flag "read-stage" with the client id as targeting key. Provider
// is the OpenFeature provider backed by the bucket: it evaluates from an
// immutable in-memory snapshot kept current by a key-value watch. Any other
// provider serving the same flag can be plugged in instead.
//
// This package is the control plane only and does not read application
// data: it never imports the stores. The read path (package reads) imports
// it and reports every read it served as a ReadObservation to a
// ClientObserver. The shadow counters that come of them are flushed to a
// second bucket (ShadowStats) so that promotion Gates and the support
// console in other processes can read them; ShadowSamples keeps the recent
// mismatching keys next to them, and Registry the clients seen. A client
// moves onto the target store only when the backfill is complete, its
// verify is clean and its shadow reads matched – enough reads, over enough
// distinct keys and time, that no single key or burst can stand in for
// real traffic; a refusal names each failing condition, and forcing it
// requires a reason that the audit log keeps. Gate thresholds lowered below
// their defaults make every such move a forced one.
//
// Only real evidence moves a rollout: a read its caller abandoned counts
// neither as a store failure (automatic rollback) nor as a comparison, and
// only clients whose reads found records are registered as known.
package flags
