package cli

import (
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/subscriptions"
)

// RegisterDeclaration binds the declarative settings of subs ensure (and
// worker --ensure) to d.
func RegisterDeclaration(fs *FlagSet, d *subscriptions.Declaration) {
	fs.StringVar(&d.Prefix, "prefix", events.DefaultSubjectPrefix, "subject prefix the stream captures (<prefix>.>)")
	fs.StringVar(&d.Start, "start", "all", "start of a new consumer: all, new, seq:N, time:RFC3339")
	fs.StringVar(&d.Role, "role", "", "legacy or target (recorded in the consumer's metadata)")
	fs.StringVar(&d.VersionSource, "version-source", string(events.VersionFromStream), "stream or producer (recorded in the consumer's metadata)")
	fs.Var((*StringList)(&d.Filters), "filter", "subject filter (repeatable or comma-separated); empty means every event")
	fs.Var((*StringList)(&d.Backoff), "backoff", "redelivery delays, comma-separated (1s,5s,30s); the first replaces --ack-wait")
	fs.DurationVar(&d.AckWait, "ack-wait", subscriptions.DefaultAckWait, "time a delivered event may stay unacknowledged")
	fs.DurationVar(&d.DuplicateWindow, "duplicate-window", subscriptions.DefaultDuplicateWindow, "how long the stream drops repeated Nats-Msg-Ids: the window of a created stream, and the least an existing one must keep")
	fs.DurationVar(&d.MaxAge, "max-age", 0, "how long a created stream keeps events; 0 means forever")
	fs.Int64Var(&d.MaxMsgs, "max-msgs", 0, "most events a created stream keeps; 0 means unlimited")
	fs.Int64Var(&d.MaxBytes, "max-bytes", 0, "most bytes a created stream keeps; 0 means unlimited")
	fs.IntVar(&d.Replicas, "replicas", 1, "copies of a created stream and dead-letter stream in a NATS cluster (1, 3 or 5)")
	fs.StringVar(&d.PlacementCluster, "placement-cluster", "", "NATS cluster a created stream is placed in; empty lets the server choose")
	fs.Var((*StringList)(&d.PlacementTags), "placement-tags", "server tags a created stream is placed on (comma-separated)")
	fs.Var((*StringList)(&d.UpdateStream), "update-stream", "settings of an existing stream to change, comma-separated: subjects (added, never dropped), duplicate-window, max-age, max-msgs, max-bytes, replicas (raised, never lowered); empty changes nothing")
	fs.IntVar(&d.MaxDeliver, "max-deliver", -1, "deliveries per event before JetStream gives up; -1 means unlimited")
	fs.IntVar(&d.MaxAckPending, "max-ack-pending", subscriptions.DefaultMaxAckPending, "unacknowledged events across the whole fleet")
}
