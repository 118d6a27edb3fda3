package all

import (
	"context"

	"github.com/switchyard/switchyard/stores"
	"github.com/switchyard/switchyard/stores/mssql"
	"github.com/switchyard/switchyard/stores/postgres"
	"github.com/switchyard/switchyard/stores/rethinkdb"
	"github.com/switchyard/switchyard/stores/sqlite"
)

// Adapters is the table of every store adapter of this module, by DSN
// scheme.
var Adapters = stores.Adapters{
	{Scheme: "postgres", Open: postgres.OpenStore},
	{Scheme: "postgresql", Open: postgres.OpenStore},
	{Scheme: "rethinkdb", Open: rethinkdb.OpenStore},
	{Scheme: "sqlite", Open: sqlite.OpenStore},
	{Scheme: "sqlserver", Open: mssql.OpenStore},
}

// Open opens any store of this module by DSN: Adapters.Open.
func Open(ctx context.Context, dsn string) (stores.Store, error) {
	return Adapters.Open(ctx, dsn)
}

// OpenRole opens any store of this module by DSN for a role:
// Adapters.OpenRole.
func OpenRole(ctx context.Context, dsn string, role stores.Role) (stores.Store, error) {
	return Adapters.OpenRole(ctx, dsn, role)
}

// Schemes lists the DSN schemes of every adapter, sorted.
func Schemes() []string { return Adapters.Schemes() }
