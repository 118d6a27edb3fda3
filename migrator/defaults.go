package migrator

import "time"

// Defaults the commands offer; the configurations document their own
// defaults for zero values.
const (
	// DefaultTargetConsumer and DefaultLegacyConsumer are the durable
	// consumer names of the two subscriptions.
	DefaultTargetConsumer = "target"
	DefaultLegacyConsumer = "legacy"
	// DefaultChunkRows, DefaultBatchRows, DefaultCopiers and
	// DefaultChunkAckWait are a backfill's chunk size, write batch,
	// copier goroutines and chunk heartbeat timeout.
	DefaultChunkRows    = 10_000
	DefaultBatchRows    = 1000
	DefaultCopiers      = 2
	DefaultChunkAckWait = 30 * time.Second
	// DefaultMaxLag and DefaultMaxLatency back a backfill off.
	DefaultMaxLag     = 10_000
	DefaultMaxLatency = 2 * time.Second
	// DefaultVerifyChunkRows and DefaultSettleTimeout are a verify's rows
	// per checksum and its longest wait for the subscriptions.
	DefaultVerifyChunkRows = 1000
	DefaultSettleTimeout   = 30 * time.Second
	// DefaultProgressEvery is how often the commands print progress.
	DefaultProgressEvery = 10 * time.Second
)
