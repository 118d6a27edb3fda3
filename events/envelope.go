package events

import (
	"encoding/json"
	"time"
)

// Op is what an event does to its record.
type Op string

const (
	// OpUpsert replaces the record with Data, the full state after the event.
	OpUpsert Op = "upsert"
	// OpDelete removes the record; stores keep a tombstone so that a stale
	// upsert can never bring it back.
	OpDelete Op = "delete"
)

// Valid reports whether op is one of the known operations.
func (op Op) Valid() bool { return op == OpUpsert || op == OpDelete }

// Limits on envelope fields. They match what every store can hold.
const (
	// MaxKeyBytes is the longest key, in bytes of UTF-8.
	MaxKeyBytes = 255
	// MaxClientBytes is the longest client (tenant) id, in bytes of UTF-8.
	MaxClientBytes = 255
	// MaxIDBytes is the longest event id.
	MaxIDBytes = 255
	// MaxTypeBytes is the longest event type.
	MaxTypeBytes = 255
	// DefaultMaxEventBytes is the payload limit a decoder applies when its
	// Limits leave MaxEventBytes at zero.
	DefaultMaxEventBytes = 1 << 20
)

// ValidEntity reports whether name is a valid entity (table or collection)
// name: ^[a-z][a-z0-9_]{0,62}$. Entity names become table names, so they
// are deliberately narrower than any store's identifier rules. It is
// checked for every event and every write, so it is a byte loop rather
// than a regular expression (which cost a third of the decoder's time).
func ValidEntity(name string) bool {
	if len(name) == 0 || len(name) > 63 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Event is one domain event. The JSON field names are the wire contract.
type Event struct {
	// ID is unique per event; it is also the Nats-Msg-Id of the publish.
	ID string `json:"id"`
	// Type is the producer's name for the event, such as "task.renamed".
	Type string `json:"type"`
	// Entity is the table or collection the record belongs to.
	Entity string `json:"entity"`
	// Key identifies the record within its entity.
	Key string `json:"key"`
	// Client is the tenant that owns the record; reads are routed per client.
	Client string `json:"client"`
	// Op is upsert or delete.
	Op Op `json:"op"`
	// Version orders the changes of one record when the deployment uses
	// producer versions. Zero means absent: the stream sequence is used.
	Version int64 `json:"version,omitempty"`
	// OccurredAt is when the change happened at the producer.
	OccurredAt time.Time `json:"occurred_at"`
	// Data is the full state of the record after the event: a JSON object,
	// required for upserts and absent (or null) for deletes.
	Data json.RawMessage `json:"data,omitempty"`
}
