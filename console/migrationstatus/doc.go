// Package migrationstatus connects the support console to the migration's
// state: Source implements console.StatusSource over the migrator's
// key-value state (phase, backfill progress, last verify), the event
// stream's subscriptions and the flag store's stage counts, and Verifier
// implements console.Verifier with per-client verifies. Deps builds all
// the console serves from over an open internal/controlplane.ControlPlane.
// The promotion gates of changes made from the console ask the migrator
// through internal/controlplane.Gates.
package migrationstatus
