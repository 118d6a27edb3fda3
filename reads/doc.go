// Package reads is the read path of a migration: it serves an
// application's reads from the store each client's read stage names, and
// in the shadow stages compares the two stores in the background.
//
// Router is the library entry point. For every read it asks a
// StageEvaluator (an OpenFeature client; flags.Provider serves the flag
// "read-stage") for the client's stage, reads the serving store within
// RouterConfig.ReadTimeout and returns its answer, naming the stage and the
// store that answered. In the shadow stages it also reads the other store,
// in a bounded background slot that the caller never waits for, compares
// the answers in canonical form and settles differing keys by reading them
// again, so that an event one subscription applied and the other not yet
// is not counted as a mismatch. A read its caller abandoned counts for
// nothing: neither as a store failure (automatic rollback) nor as a
// comparison.
//
// The router only reports what it saw. Every read is told to the
// flags.ClientObserver values of its configuration (flags.ShadowStats,
// flags.Registry), which keep the evidence the promotion gates and the
// console read; mismatching keys go to a MismatchSink
// (flags.ShadowSamples). This package imports the control plane, never the
// reverse: flags decides the stages and keeps the evidence, reads acts on
// them.
//
// NewReadAPI serves a router over HTTP to callers of an AccessPolicy
// (ReadAccess: bearer tokens kept as hashes, or client certificate names),
// each scoped to the clients it may read; it answers nobody without
// credentials. Open and Server.Serve run the read API as the read-api
// command does: stores, listener, TLS, reload of the access file, the
// operations endpoints (internal/ops) and a two-stage shutdown, configured
// by a ServerConfig whose defaults are this package's constants.
//
// Bad input fails with a *flags.InvalidError (matching flags.ErrInvalid),
// as it does in the control plane.
package reads
