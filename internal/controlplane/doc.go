// Package controlplane opens the migration's control plane on NATS: the
// migration state, the per-client read flags with their audit log, shadow
// counters and client registry, and the promotion gates that ask the
// migration state. It is the glue between the flag store and the migrator,
// which do not import each other: Gates answers the flag store's gates from
// the migration state, ReadStages answers the migrator's cleanup and status
// from the flag store.
//
// Every command opens it the same way, with Open: what it needs (Parts),
// whether it may create what is missing (MustExist) and whether it waits for
// what is missing (Wait). A missing bucket or stream names the command that
// creates it.
package controlplane
