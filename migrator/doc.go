// Package migrator moves the records a new subscription never saw and
// proves the move: the backfill copier, verify, repair, status and the
// cleanup of the legacy subscription, plus the migration phase they advance.
//
// Everything a migration needs to remember lives in one NATS key-value
// bucket (DefaultBucket), opened with OpenState: the phase, the backfill
// run with its watermark and per-entity checkpoints, the backfill control
// (pause and rate, changeable while copiers run), verify checkpoints and
// results, and the cleanup record. Any process can therefore resume,
// join, or report on work another process started.
//
// The phases move forward only:
//
//	subscribed → backfilling → verifying → switching → cleaned-up
//
// backfill enters backfilling, a complete verify enters verifying, the flags
// package enters switching when the first client reads from the target, and
// cleanup enters cleaned-up.
//
// The copier's order of work follows the rule that makes a backfill safe: the
// target subscription exists first; the legacy subscription has processed
// every event published before the target subscription was created (the
// watermark, recorded before the copy starts); then every source row is
// written with insert-if-absent semantics at its source version, so a row
// the target subscription already wrote, or deleted, is never overwritten.
package migrator
