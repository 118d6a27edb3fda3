// Package lifecycle is the ground floor every long-running part of
// Switchyard stands on to wait, retry and stop: one implementation of each,
// so a worker, a backfill and a command wait out an outage and shut down
// the same way.
//
// The contract of every function here:
//
//   - ctx comes first and is obeyed: nothing waits past the end of ctx,
//     and a wait cut short by ctx returns ctx's error (Sleep, Retry).
//   - Backoff is a pure delay policy (exponential, capped, with optional
//     jitter); it neither sleeps nor logs.
//   - Retry calls an operation until it succeeds, fails for good (a
//     Permanent error or one the Policy does not retry), runs out of
//     attempts or ctx ends; each wait is logged with what it waits for.
//   - Drain is the two-stage shutdown: a soft context that ends when no
//     new work may start, and a hard context that ends a grace period
//     later (or never, when the in-flight work finishes in time). Its one
//     goroutine ends in Finish.
//
// Nothing here starts a goroutine that outlives the call or the Drain that
// started it.
package lifecycle
