package all

import (
	_ "github.com/switchyard/switchyard/stores/mssql"     // sqlserver://
	_ "github.com/switchyard/switchyard/stores/postgres"  // postgres://, postgresql://
	_ "github.com/switchyard/switchyard/stores/rethinkdb" // rethinkdb://
	_ "github.com/switchyard/switchyard/stores/sqlite"    // sqlite:
)
