// Package quickstart runs the whole migration on one machine with nothing
// installed but Go: an embedded NATS JetStream server, a to-do producer that
// keeps publishing events for a few clients, a legacy and a target
// subscription applying them into two SQLite files, the backfill and verify
// that close the gap between them, and the support console to switch
// clients' reads. It is what `switchyard dev` runs.
//
// Everything lives under one folder, so a second run resumes where the
// first stopped: the stream, the consumers and their positions, both
// databases and the migration state.
package quickstart
