// Package testenv gives tests real parts: an embedded JetStream server with
// its store in a temporary folder, an embedded three-node JetStream cluster
// whose nodes a test can stop and restart, and a fresh PostgreSQL schema
// per test.
//
// PostgreSQL tests skip with a message naming the missing server unless
// SWITCHYARD_REQUIRE_POSTGRES=1 (set by .ci/run), in which case an unreachable
// server fails the test.
package testenv
