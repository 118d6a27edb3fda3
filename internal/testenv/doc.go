// Package testenv gives tests real parts: an embedded JetStream server with
// its store in a temporary folder, an embedded JetStream cluster whose nodes
// can be stopped and started again (NewNATSCluster), and a fresh PostgreSQL
// schema per test.
//
// PostgreSQL tests skip with a message naming the missing server unless
// SWITCHYARD_REQUIRE_POSTGRES=1 (set by .ci/run), in which case an unreachable
// server fails the test.
package testenv
