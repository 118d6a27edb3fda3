package mssql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/stores"
)

// ErrUnsupported matches every error saying that the server or the
// database cannot run this adapter until an operator changes it: a
// *ServerVersionError or a *CompatibilityLevelError. Waiting does not
// help, so it never matches stores.ErrTransient.
var ErrUnsupported = errors.New("SQL Server cannot run Switchyard as it is configured")

// Requirements the server and database must meet.
const (
	// minMajorVersion is SQL Server 2019 (15.x), the first release with
	// UTF-8 collations ("Collation and Unicode support"), which the
	// [key] and [client] columns use.
	minMajorVersion = 15
	// minCompatibilityLevel is the lowest database compatibility level at
	// which OPENJSON exists ("OPENJSON (Transact-SQL)": below 130 SQL
	// Server cannot find the function and fails with error 208, invalid
	// object name). Every apply batch uses it.
	minCompatibilityLevel = 130
	// Engine editions (SERVERPROPERTY('EngineEdition')) whose version
	// number is not a SQL Server release but which have every feature the
	// adapter needs: Azure SQL Database and Azure SQL Managed Instance.
	editionAzureSQLDatabase = 5
	editionManagedInstance  = 8
)

// serverQuery reads what New and Inspect check, in one round trip. The row
// of the connected database in sys.databases is visible to every login
// ("sys.databases": the database the caller is connected to can always be
// viewed), and SERVERPROPERTY needs no permission. It names only columns
// every version has, so an old server is refused by its version, not by a
// compile error; ProductMajorVersion is NULL before SQL Server 2012.
const serverQuery = `SELECT CONVERT(INT, SERVERPROPERTY('EngineEdition')) AS [engine_edition],
    CONVERT(INT, SERVERPROPERTY('ProductMajorVersion')) AS [major_version],
    CONVERT(NVARCHAR(128), SERVERPROPERTY('ProductVersion')) AS [product_version],
    d.[name], d.[compatibility_level]
FROM sys.databases AS d
WHERE d.[database_id] = DB_ID();`

// serverInfo is what serverQuery found.
type serverInfo struct {
	edition        int64
	majorVersion   int64 // 0 when the server does not report it
	productVersion string
	database       string
	compatLevel    int64
}

func readServer(ctx context.Context, q querier) (serverInfo, error) {
	rows, err := q.QueryContext(ctx, serverQuery)
	if err != nil {
		return serverInfo{}, classify(fmt.Errorf("read server version: %w", err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return serverInfo{}, classify(fmt.Errorf("read server version: %w", err))
		}
		return serverInfo{}, fmt.Errorf("read server version: sys.databases has no row for the connected database")
	}
	var info serverInfo
	var edition, major, level sql.NullInt64
	var version sql.NullString
	if err := rows.Scan(&edition, &major, &version, &info.database, &level); err != nil {
		return serverInfo{}, fmt.Errorf("read server version: %w", err)
	}
	info.edition, info.majorVersion, info.productVersion, info.compatLevel = edition.Int64, major.Int64, version.String, level.Int64
	return info, rows.Err()
}

// azure reports whether the server is Azure SQL Database or Managed
// Instance, whose ProductMajorVersion is not a SQL Server release.
func (i serverInfo) azure() bool {
	return i.edition == editionAzureSQLDatabase || i.edition == editionManagedInstance
}

// refusal returns the error New fails with, or nil.
func (i serverInfo) refusal() error {
	if !i.azure() && i.majorVersion < minMajorVersion {
		return &ServerVersionError{Version: i.productVersion, Major: int(i.majorVersion)}
	}
	if i.compatLevel < minCompatibilityLevel {
		return &CompatibilityLevelError{Database: i.database, Level: int(i.compatLevel)}
	}
	return nil
}

// versionCheck is the server_version preflight check.
func (i serverInfo) versionCheck() stores.Check {
	var sve *ServerVersionError
	if errors.As(i.refusal(), &sve) {
		return stores.Check{Name: "server_version", Status: stores.CheckFail, Detail: sve.Error()}
	}
	if i.azure() {
		return stores.Check{Name: "server_version", Status: stores.CheckPass, Detail: fmt.Sprintf("Azure SQL (engine edition %d, version %s)", i.edition, i.productVersion)}
	}
	return stores.Check{Name: "server_version", Status: stores.CheckPass, Detail: fmt.Sprintf("SQL Server %s (2019 or later)", i.productVersion)}
}

// compatibilityCheck is the compatibility_level preflight check.
func (i serverInfo) compatibilityCheck() stores.Check {
	if i.compatLevel < minCompatibilityLevel {
		return stores.Check{Name: "compatibility_level", Status: stores.CheckFail, Detail: (&CompatibilityLevelError{Database: i.database, Level: int(i.compatLevel)}).Error()}
	}
	return stores.Check{Name: "compatibility_level", Status: stores.CheckPass, Detail: fmt.Sprintf("database %s is at compatibility level %d (130 or higher)", i.database, i.compatLevel)}
}

// ServerVersionError says the server is older than SQL Server 2019.
type ServerVersionError struct {
	// Version is SERVERPROPERTY('ProductVersion'), such as 14.0.3456.2.
	Version string
	// Major is SERVERPROPERTY('ProductMajorVersion'), 0 when unreported.
	Major int
}

func (e *ServerVersionError) Error() string {
	return fmt.Sprintf("SQL Server %s is older than SQL Server 2019 (15.x), the first release with the UTF-8 collations the key columns use (%s): upgrade the server, or use Azure SQL",
		e.Version, keyCollation)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *ServerVersionError) Is(target error) bool { return target == ErrUnsupported }

// CompatibilityLevelError says the database's compatibility level is below
// 130, where OPENJSON, which every apply batch uses, does not exist.
type CompatibilityLevelError struct {
	// Database is the connected database.
	Database string
	// Level is its compatibility level.
	Level int
}

func (e *CompatibilityLevelError) Error() string {
	return fmt.Sprintf("database %s is at compatibility level %d; Switchyard's batches use OPENJSON, which needs level %d or higher: "+
		"an operator must run ALTER DATABASE %s SET COMPATIBILITY_LEVEL = %d (or higher; check the application first, the level changes how its queries run); Switchyard never changes it",
		e.Database, e.Level, minCompatibilityLevel, quote(e.Database), minCompatibilityLevel)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *CompatibilityLevelError) Is(target error) bool { return target == ErrUnsupported }
