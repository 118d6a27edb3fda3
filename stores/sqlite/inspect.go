package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/stores"
)

var (
	_ stores.Inspector      = (*Store)(nil)
	_ stores.ScratchDropper = (*Store)(nil)
)

// minSQLiteVersion is the oldest SQLite library the adapter's statements
// run on: the ->> operator came with 3.38.0.
const minSQLiteVersion = 3038000

// Inspect runs the cheap checks of stores.Inspector: both connection pools
// reach the file, the SQLite library is 3.38 or later and the file is in WAL
// mode, the process may read the file (a source) or also write it and
// create files in its folder, as WAL needs (a target), and the existing
// entity tables and the ledger have the adapter's shape. It writes nothing.
func (s *Store) Inspect(ctx context.Context, role stores.Role) []stores.Check {
	if err := s.Ping(ctx); err != nil {
		return []stores.Check{{Name: "connect", Status: stores.CheckFail, Detail: err.Error()}}
	}
	checks := []stores.Check{{Name: "connect", Status: stores.CheckPass, Detail: "opened " + s.path}}
	var version string
	var versionNum int
	var journal string
	err := s.reader.QueryRowContext(ctx, `SELECT sqlite_version(), (SELECT journal_mode FROM pragma_journal_mode)`).Scan(&version, &journal)
	if err == nil {
		versionNum, err = parseSQLiteVersion(version)
	}
	switch {
	case err != nil:
		checks = append(checks, stores.Check{Name: "server_version", Status: stores.CheckFail, Detail: classify(err).Error()})
	case versionNum < minSQLiteVersion:
		checks = append(checks, stores.Check{Name: "server_version", Status: stores.CheckFail,
			Detail: fmt.Sprintf("SQLite %s; Switchyard needs 3.38 or later", version)})
	default:
		checks = append(checks, stores.Check{Name: "server_version", Status: stores.CheckPass, Detail: "SQLite " + version})
	}
	switch {
	case strings.EqualFold(journal, "wal"):
		checks = append(checks, stores.Check{Name: "journal_mode", Status: stores.CheckPass, Detail: "WAL"})
	case role == stores.RoleSource:
		checks = append(checks, stores.Check{Name: "journal_mode", Status: stores.CheckPass,
			Detail: fmt.Sprintf("%s; a source is only read, and the file is left as it is", journal)})
	default:
		checks = append(checks, stores.Check{Name: "journal_mode", Status: stores.CheckFail,
			Detail: fmt.Sprintf("journal mode %q, want WAL (readers beside the writer); the file system may not support it", journal)})
	}
	checks = append(checks, s.checkAccess(role), s.checkTableShapes(ctx, role))
	return checks
}

// parseSQLiteVersion turns "3.46.1" into 3046001, as sqlite_version_number.
func parseSQLiteVersion(v string) (int, error) {
	var major, minor, patch int
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch); err != nil {
		return 0, fmt.Errorf("sqlite version %q: %w", v, err)
	}
	return major*1000000 + minor*1000 + patch, nil
}

// checkAccess checks the file's permissions for the process: read for a
// source; read and write, and write on the folder for the WAL and
// shared-memory files, for a target.
func (s *Store) checkAccess(role stores.Role) stores.Check {
	const name = "permissions"
	if s.readOnly && role == stores.RoleTarget {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: "the store was opened as a source, read only; open it as a target"}
	}
	mode, what := uint32(unix.R_OK), "read"
	if role == stores.RoleTarget {
		mode, what = unix.R_OK|unix.W_OK, "read and write"
	}
	if err := unix.Access(s.path, mode); err != nil {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: fmt.Sprintf("this process may not %s %s: %v", what, s.path, err)}
	}
	if role == stores.RoleTarget {
		dir := filepath.Dir(s.path)
		if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
			return stores.Check{Name: name, Status: stores.CheckFail,
				Detail: fmt.Sprintf("this process may not create files in %s, which WAL mode needs beside the database: %v", dir, err)}
		}
	}
	return stores.Check{Name: name, Status: stores.CheckPass, Detail: fmt.Sprintf("may %s %s", what, s.path)}
}

// checkTableShapes checks every entity table and, for a target, the
// ledger (a source needs none).
func (s *Store) checkTableShapes(ctx context.Context, role stores.Role) stores.Check {
	const name = "table_shape"
	entities, err := s.Entities(ctx)
	if err != nil {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: err.Error()}
	}
	var problems []string
	for _, entity := range entities {
		if _, err := checkShape(ctx, s.reader, entity); err != nil {
			problems = append(problems, err.Error())
		}
	}
	ledger := ""
	if role == stores.RoleTarget {
		ledger = "; the ledger has the expected shape"
		if err := s.checkLedgerShape(ctx); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return stores.Check{Name: name, Status: stores.CheckFail, Detail: strings.Join(problems, "; ")}
	}
	detail := fmt.Sprintf("%d entity tables have the expected shape", len(entities))
	if len(entities) > 0 {
		detail += " (" + strings.Join(entities, ", ") + ")"
	}
	return stores.Check{Name: name, Status: stores.CheckPass, Detail: detail + ledger}
}

// checkLedgerShape checks that event_id is the ledger's text primary key in
// byte order and applied_at exists.
func (s *Store) checkLedgerShape(ctx context.Context) error {
	var typ, coll string
	var pk int
	err := s.reader.QueryRowContext(ctx, `
SELECT c.type, c.pk, coalesce((SELECT x.coll FROM pragma_index_list(?1) AS l JOIN pragma_index_xinfo(l.name) AS x
  WHERE l.origin = 'pk' AND x.key = 1 AND x.name = 'event_id'), '')
FROM pragma_table_info(?1) AS c WHERE c.name = 'event_id'`, ledgerTable).Scan(&typ, &pk, &coll)
	mismatch := func(col, format string, args ...any) error {
		return fmt.Errorf("sqlite: table %s, column %s: %s: %w", ledgerTable, col, fmt.Sprintf(format, args...), stores.ErrSchemaMismatch)
	}
	switch {
	case err != nil:
		return mismatch("event_id", "missing or unreadable: %v", err)
	case !strings.EqualFold(typ, "TEXT") || pk != 1:
		return mismatch("event_id", "type %s, primary key position %d, want the TEXT primary key", typ, pk)
	case !strings.EqualFold(coll, "BINARY"):
		return mismatch("event_id", "collation %q, want BINARY (bytes)", coll)
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?1) WHERE name = 'applied_at'`, ledgerTable).Scan(&n); err != nil || n != 1 {
		return mismatch("applied_at", "missing")
	}
	return nil
}

// DropScratch drops the table of a preflight scratch entity (its name is
// stores.ScratchPrefix followed by a suffix) and the ledger entries whose
// event id starts with the entity's name, which is how the self-test names
// its events. Any other name is refused with an error matching
// stores.ErrNotScratch. Dropping an entity that does not exist is not an
// error.
func (s *Store) DropScratch(ctx context.Context, entity string) error {
	if len(entity) <= len(stores.ScratchPrefix) || !strings.HasPrefix(entity, stores.ScratchPrefix) || !usableEntity(entity) {
		return fmt.Errorf("sqlite: drop %q: %w", entity, stores.ErrNotScratch)
	}
	s.tables.Delete(entity)
	if _, err := s.writer.ExecContext(ctx, `DROP TABLE IF EXISTS `+quote(entity)); err != nil {
		return classify(fmt.Errorf("sqlite %s: drop scratch table %s: %w", s.path, entity, err))
	}
	s.tables.Delete(entity)
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM switchyard_ledger WHERE substr(event_id, 1, ?2) = ?1`, entity, len(entity)); err != nil {
		return classify(fmt.Errorf("sqlite %s: drop the ledger entries of scratch entity %s: %w", s.path, entity, err))
	}
	return nil
}
