// Package flagstest is for tests only: the helpers the tests of the flag
// store (flags) and of the read path (reads) share, so both run against a
// real flag store and provider set up the same way. A flag store on an
// embedded JetStream server whose gates answer from fields a test sets
// (NewStoreEnv, GateSource, Shadow), an OpenFeature provider registered on
// an isolated API with the events it emitted counted (StartProvider,
// EventLog), and readers of what it serves (StageOf, ClientIDs).
//
// Nothing outside _test.go files may import it.
package flagstest
