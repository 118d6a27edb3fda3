// Package testenv gives tests real parts: an embedded JetStream server with
// its store in a temporary folder, an embedded JetStream cluster whose nodes
// can be stopped and started again (NewNATSCluster), a fresh PostgreSQL
// schema per test (and a role that may only read it), and a fresh database
// name on a real RethinkDB.
//
// PostgreSQL tests skip with a message naming the missing server unless
// SWITCHYARD_REQUIRE_POSTGRES=1 (set by .ci/run), in which case an unreachable
// server fails the test. RethinkDB tests run only when SWITCHYARD_TEST_RETHINKDB
// names a server (host:port) and likewise fail, not skip, with
// SWITCHYARD_REQUIRE_RETHINKDB=1.
package testenv
