// Package gate is the control plane's shared vocabulary, at the ground floor
// so the flag store, the migrator and the console speak it without
// importing each other: the read stages a client moves through (Stage), one
// condition a gate checks (Condition), and the error a gate that does not
// pass returns (Error, matching ErrFailed).
//
// Two gates use it: the promotion gates of the flag store, checked before a
// client moves onto the target store, and the readiness gate of the
// migrator's cleanup, checked before the legacy subscription is removed.
// The flags, migrator and console packages re-export these names (flags.Stage,
// flags.Condition, flags.GateRefusedError, migrator.Condition,
// migrator.GateError, console.Stage, console.GateCondition,
// console.GateRefusal), so callers need not import this package.
package gate
