package flags

import (
	"log/slog"
	"maps"

	"github.com/nats-io/nats.go/jetstream"
)

// snapshotBuilder folds bucket entries into the next Snapshot. It copies the
// override map at most once per snapshot (copy on write), so a burst of
// updates costs one copy.
type snapshotBuilder struct {
	config    Config
	overrides map[string]Override
	revision  uint64
	owned     bool // overrides was copied since the last snapshot
}

func newSnapshotBuilder() *snapshotBuilder {
	return &snapshotBuilder{config: DefaultConfig(), overrides: map[string]Override{}, owned: true}
}

// from starts the next snapshot from the current one.
func builderFrom(s *Snapshot) *snapshotBuilder {
	return &snapshotBuilder{config: s.config, overrides: s.overrides, revision: s.revision}
}

func (b *snapshotBuilder) own() {
	if !b.owned {
		b.overrides = maps.Clone(b.overrides)
		b.owned = true
	}
}

// apply folds one entry in; malformed values are logged and skipped so one
// bad key cannot stop every router from following the others.
func (b *snapshotBuilder) apply(e jetstream.KeyValueEntry, log *slog.Logger) {
	b.revision = max(b.revision, e.Revision())
	deleted := e.Operation() != jetstream.KeyValuePut
	if e.Key() == configKey {
		if deleted {
			b.config = DefaultConfig()
			return
		}
		cfg, err := decodeConfig(e.Value())
		if err != nil {
			log.Warn("ignoring malformed flag config", "revision", e.Revision(), "err", err)
			return
		}
		b.config = cfg
		return
	}
	client, ok := clientFromOverrideKey(e.Key())
	if !ok {
		return
	}
	b.own()
	if deleted {
		delete(b.overrides, client)
		return
	}
	o, err := decodeOverride(client, e.Value(), e.Revision())
	if err != nil {
		log.Warn("ignoring malformed override", "key", e.Key(), "err", err)
		return
	}
	b.overrides[client] = o
}

func (b *snapshotBuilder) snapshot() *Snapshot {
	b.owned = false
	return NewSnapshot(b.config, b.overrides, b.revision)
}
