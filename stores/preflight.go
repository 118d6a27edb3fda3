package stores

import "context"

// Role says how a command uses a store, and so what preflight must prove
// about it. A store opened in a read-only role writes nothing, not even its
// own bookkeeping tables, and works with read-only credentials.
type Role string

const (
	// RoleSource is the legacy store read by the backfill, by verify and by
	// the legacy side of the read router: read only.
	RoleSource Role = "source"
	// RoleTarget is the store the worker fleet and the backfill write.
	RoleTarget Role = "target"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleSource || r == RoleTarget }

// CheckStatus is the outcome of one preflight check.
type CheckStatus string

const (
	// CheckPass means the check found nothing wrong.
	CheckPass CheckStatus = "pass"
	// CheckWarn means the migration can proceed but the operator should
	// read the detail (a setting below its recommended value, say).
	CheckWarn CheckStatus = "warn"
	// CheckFail means the store is unusable in its role until the detail is
	// dealt with. Workers and the backfill refuse to start on a failing
	// cheap check.
	CheckFail CheckStatus = "fail"
)

// Check is the result of one preflight check.
type Check struct {
	// Name is a stable snake_case identifier such as "server_version" or
	// "compatibility_level"; the JSON output and the docs use it.
	Name string `json:"name"`
	// Status is pass, warn or fail.
	Status CheckStatus `json:"status"`
	// Detail says what was found, and on a failure what to do about it. It
	// never holds a secret.
	Detail string `json:"detail"`
}

// Inspector is implemented by every adapter. Preflight and the start-up of
// workers and the backfill call it.
type Inspector interface {
	// Inspect runs the cheap checks, those that read no records: the server
	// is reachable, its version and features suit the adapter, the
	// credentials hold the permissions the role needs (and a source's hold
	// no more than it uses, where the server can tell), and the tables that
	// already exist have the shape the adapter expects. It writes nothing.
	// A check that cannot run is reported as failed with the reason, never
	// skipped silently.
	Inspect(ctx context.Context, role Role) []Check
}

// ScratchDropper is implemented by adapters whose writer self-test may
// create a scratch entity. DropScratch removes an entity whose name starts
// with ScratchPrefix, table and ledger entries alike, and refuses any
// other name, so the self-test can never drop an application's table.
type ScratchDropper interface {
	DropScratch(ctx context.Context, entity string) error
}

// ScratchPrefix begins the name of every entity that preflight's writer
// self-test creates and drops again.
const ScratchPrefix = "switchyard_preflight_"

// SourceSampler is implemented by adapters that map an application's own
// documents (RethinkDB). SampleSource reads up to n raw documents of entity
// as the application stored them and reports what the adapter could not
// migrate exactly: documents that already hold the bookkeeping fields
// (version, deleted) the adapter would read as its own, and primary keys
// that are not strings. It writes nothing. Checks of the keys and sizes the
// target can hold are made by preflight on Scan's records, for every store.
type SourceSampler interface {
	SampleSource(ctx context.Context, entity string, n int) ([]Check, error)
}
