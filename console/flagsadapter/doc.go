// Package flagsadapter lets the support console work on package flags: it
// implements console.Flags over a flags.Store (stages, overrides, gates and
// the audit log it appends to) and a flags.ShadowSource (the per-client
// shadow counters), translating the flag package's errors into the
// console's.
package flagsadapter
