package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// Apply applies writes in one transaction (see stores.Writer). Phases:
// validate every write (a *stores.RejectError before anything is written),
// plan (collapse to one write per key), ensure the tables, then in one
// transaction record the event ids in the ledger, dropping the ones already
// there, and run one live statement and one IfAbsent statement per entity.
// Busy or locked databases yield errors matching stores.ErrTransient.
func (s *Store) Apply(ctx context.Context, writes []stores.Write) (stores.ApplyResult, error) {
	if len(writes) == 0 {
		return stores.ApplyResult{}, nil
	}
	if err := validate(writes); err != nil {
		return stores.ApplyResult{}, err
	}
	plan := stores.NewPlan(writes)
	for _, entity := range plan.Entities {
		if err := s.ensureTable(ctx, entity); err != nil {
			return stores.ApplyResult{}, err
		}
	}
	result, err := s.applyPlan(ctx, plan)
	if err != nil {
		return stores.ApplyResult{}, classify(fmt.Errorf("sqlite %s: apply: %w", s.path, err))
	}
	return result, nil
}

// validate adds this store's limit to stores.Validate: entity names that
// cannot be tables. Text SQLite would not keep intact (invalid UTF-8, NUL)
// is refused by stores.Validate for every store.
func validate(writes []stores.Write) error {
	if err := stores.Validate(writes); err != nil {
		return err
	}
	for i, w := range writes {
		if !usableEntity(w.Entity) {
			return stores.Reject(i, w, "entity name %q is reserved", w.Entity)
		}
	}
	return nil
}

// applyPlan runs the transaction of one Apply call.
func (s *Store) applyPlan(ctx context.Context, plan *stores.Plan) (stores.ApplyResult, error) {
	result := plan.Result
	now := time.Now().UTC().Format(timeLayout)
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return result, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	if len(plan.EventIDs)+len(plan.SupersededEventIDs) > 0 {
		seen, err := recordEventIDs(ctx, tx, plan.EventIDs, plan.SupersededEventIDs, now)
		if err != nil {
			return result, err
		}
		plan.DropEventIDs(seen)
		result.Duplicates = plan.Result.Duplicates
	}
	var buf []byte
	for _, entity := range plan.Entities {
		var live, absent []stores.Write
		for _, w := range plan.Writes[entity] {
			if w.IfAbsent {
				absent = append(absent, w)
			} else {
				live = append(live, w)
			}
		}
		for _, batch := range []struct {
			writes []stores.Write
			stmt   string
		}{{live, upsertSQL(entity)}, {absent, insertIfAbsentSQL(entity)}} {
			if len(batch.writes) == 0 {
				continue
			}
			buf = encodeRows(buf[:0], batch.writes)
			res, err := tx.ExecContext(ctx, batch.stmt, string(buf), now)
			if err != nil {
				return result, fmt.Errorf("entity %s: %w", entity, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return result, fmt.Errorf("entity %s: %w", entity, err)
			}
			result.Applied += int(n)
			result.Skipped += len(batch.writes) - int(n)
		}
	}
	if err := tx.Commit(); err != nil {
		return result, err
	}
	return result, nil
}

// timeLayout spells updated_at and applied_at: fixed width, so text order is
// time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// recordEventIDs inserts the ids of the surviving writes and of the
// superseded ones into the ledger, in one statement, and returns the ids of
// surviving writes that were there already.
func recordEventIDs(ctx context.Context, tx *sql.Tx, ids, superseded []string, now string) (map[string]bool, error) {
	var buf []byte
	buf = append(buf, '[')
	for i, id := range append(ids[:len(ids):len(ids)], superseded...) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, id)
	}
	buf = append(buf, ']')
	rows, err := tx.QueryContext(ctx, `
INSERT INTO switchyard_ledger (event_id, applied_at)
SELECT value, ?2 FROM json_each(?1) WHERE true
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id`, string(buf), now)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	inserted := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	var seen map[string]bool
	for _, id := range ids {
		if !inserted[id] {
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[id] = true
		}
	}
	return seen, nil
}

// rowsSource expands the JSON array parameter ?1 into the columns of a
// write; each element is [key, client, version, deleted, data-as-string].
// "WHERE true" resolves SQLite's parsing ambiguity between a join's ON and
// the upsert's ON CONFLICT.
const rowsSource = `SELECT value->>0, value->>1, value->>2, value->>3, value->>4, ?2 FROM json_each(?1) WHERE true`

// upsertSQL is the version-fenced upsert of ordinary writes: insert, or
// update only when the incoming version is higher (tombstones included).
func upsertSQL(entity string) string {
	t := quote(entity)
	return `INSERT INTO ` + t + ` (key, client, version, deleted, data, updated_at)
` + rowsSource + `
ON CONFLICT (key) DO UPDATE SET
  client = excluded.client, version = excluded.version, deleted = excluded.deleted,
  data = excluded.data, updated_at = excluded.updated_at
WHERE excluded.version > ` + t + `.version`
}

// insertIfAbsentSQL inserts backfill writes only where the key has neither
// row nor tombstone.
func insertIfAbsentSQL(entity string) string {
	return `INSERT INTO ` + quote(entity) + ` (key, client, version, deleted, data, updated_at)
` + rowsSource + `
ON CONFLICT (key) DO NOTHING`
}

// encodeRows appends the JSON array parameter for writes to buf. Documents
// travel as JSON strings so SQLite stores them byte for byte as given.
func encodeRows(buf []byte, writes []stores.Write) []byte {
	buf = append(buf, '[')
	for i, w := range writes {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = appendJSONString(buf, w.Key)
		buf = append(buf, ',')
		buf = appendJSONString(buf, w.Client)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, w.Version, 10)
		if w.Deleted {
			buf = append(buf, ",1,null]"...)
			continue
		}
		buf = append(buf, ",0,"...)
		buf = appendJSONString(buf, string(w.Data))
		buf = append(buf, ']')
	}
	return append(buf, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. s is valid UTF-8 (validate
// checked it), so only quotes, backslashes and control characters need
// escaping.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
