package mssql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/stores"
)

const recordColumns = "[key], [client], [version], [deleted], [data], [updated_at]"

func getStatement(table string) string {
	return "SELECT " + recordColumns + " FROM " + table + " WHERE [key] = " + keyParam("key") + ";"
}

// storable reports whether s could be a stored key or client: valid UTF-8 of
// at most 255 bytes. Other values match no row, and converted to the
// column's type they would be truncated or replaced, and could match one.
func storable(s string) bool {
	return len(s) <= keyColumnBytes && utf8.ValidString(s)
}

// keyFloor returns the greatest storable string (see storable) that is not
// above bound in byte order. For every storable k, k > bound exactly when
// k > keyFloor(bound), and k <= bound exactly when k <= keyFloor(bound): a
// range bound no key could equal becomes one that reaches the server
// unchanged, where the conversion to VARCHAR(255) would truncate it, or the
// driver would replace its invalid bytes. It is "" only for "".
func keyFloor(bound string) string {
	if storable(bound) {
		return bound
	}
	// The longest prefix of whole, valid characters that fits the column.
	j := 0
	for j < len(bound) {
		r, size := utf8.DecodeRuneInString(bound[j:])
		if (r == utf8.RuneError && size <= 1) || j+size > keyColumnBytes {
			break
		}
		j += size
	}
	room, rest := keyColumnBytes-j, bound[j:]
	// The greatest character that fits the room left and sorts below rest,
	// found by bisection: UTF-8 keeps code point order, and rest does not
	// start with a character that fits, so nothing storable lies between.
	codePoint := func(i int) rune {
		if i >= 0xD800 {
			return rune(i + 0x800) // skip the surrogates
		}
		return rune(i)
	}
	n := sort.Search(utf8.MaxRune+1-0x800, func(i int) bool {
		c := codePoint(i)
		return utf8.RuneLen(c) > room || string(c) >= rest
	})
	if n == 0 {
		return bound[:j]
	}
	c := codePoint(n - 1)
	var sb strings.Builder
	sb.WriteString(bound[:j])
	sb.WriteRune(c)
	// Then the greatest characters that fill the room left.
	for room -= utf8.RuneLen(c); room >= 4; room -= 4 {
		sb.WriteRune(utf8.MaxRune)
	}
	sb.WriteString([]string{"", "\x7f", "\u07ff", "\uffff"}[room])
	return sb.String()
}

// rangeStatement selects the rows of r in key order. The bounds and the
// client filter are parameters converted to the key columns' type (see
// keyParam), bounds first brought within it (see keyFloor); only their
// presence shapes the text.
func rangeStatement(columns, table string, r stores.Range, liveOnly bool) (string, []any) {
	var sb strings.Builder
	args := []any{sql.Named("after", keyFloor(r.After))}
	sb.WriteString("SELECT ")
	if r.Limit > 0 {
		sb.WriteString("TOP (@limit) ")
		args = append(args, sql.Named("limit", int64(r.Limit)))
	}
	sb.WriteString(columns + " FROM " + table + " WHERE [key] > " + keyParam("after"))
	if r.Through != "" {
		sb.WriteString(" AND [key] <= " + keyParam("through"))
		args = append(args, sql.Named("through", keyFloor(r.Through)))
	}
	if r.Client != "" {
		sb.WriteString(" AND [client] = " + keyParam("client"))
		args = append(args, sql.Named("client", r.Client))
	}
	if liveOnly {
		sb.WriteString(" AND [deleted] = 0")
	}
	sb.WriteString(" ORDER BY [key];")
	return sb.String(), args
}

const entitiesQuery = `SELECT t.[name] FROM sys.tables AS t
WHERE t.[schema_id] = SCHEMA_ID(@schema) AND t.[name] <> N'switchyard_ledger'
    AND (SELECT COUNT(*) FROM sys.columns AS c WHERE c.[object_id] = t.[object_id] AND c.[name] IN (N'key', N'client', N'version', N'deleted', N'data', N'updated_at')) = 6;`

// Get returns the row of key, tombstone included. It fails with an error
// matching stores.ErrNotFound when the key has no row, stores.ErrNoEntity
// when the entity has no table (or is not a valid entity name), and a
// classified driver error otherwise. A key no write could store (over 255
// bytes, or not valid UTF-8) is not found without asking the server.
func (s *Store) Get(ctx context.Context, entity, key string) (stores.Record, error) {
	table, err := tableName(s.cfg.schema(), entity)
	if err != nil {
		return stores.Record{}, fmt.Errorf("%w: %v", stores.ErrNoEntity, err)
	}
	if !storable(key) {
		return stores.Record{}, fmt.Errorf("get %s/%q: %w", entity, key, stores.ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, getStatement(table), sql.Named("key", key))
	if err != nil {
		if isMissingTable(err) {
			return stores.Record{}, fmt.Errorf("get %s/%s: %w", entity, key, stores.ErrNoEntity)
		}
		return stores.Record{}, classify(fmt.Errorf("get %s/%s: %w", entity, key, err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return stores.Record{}, classify(fmt.Errorf("get %s/%s: %w", entity, key, err))
		}
		return stores.Record{}, fmt.Errorf("get %s/%s: %w", entity, key, stores.ErrNotFound)
	}
	rec, err := scanRecord(rows)
	if err != nil {
		return stores.Record{}, fmt.Errorf("get %s/%s: %w", entity, key, err)
	}
	return rec, nil
}

func scanRecord(rows *sql.Rows) (stores.Record, error) {
	var rec stores.Record
	var data sql.NullString
	var updated time.Time
	if err := rows.Scan(&rec.Key, &rec.Client, &rec.Version, &rec.Deleted, &data, &updated); err != nil {
		return stores.Record{}, err
	}
	if data.Valid && !rec.Deleted {
		rec.Data = json.RawMessage(data.String)
	}
	rec.UpdatedAt = updated.UTC()
	return rec, nil
}

// Scan returns the rows of a range in key order, tombstones included, in one
// query. An entity without a table scans empty. Keys are ordered by the key
// column's binary UTF-8 collation: byte order, which is code point order.
func (s *Store) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	table, err := tableName(s.cfg.schema(), entity)
	if err != nil {
		return nil, err
	}
	if !storable(r.Client) {
		return nil, nil // no row has this client
	}
	statement, args := rangeStatement(recordColumns, table, r, false)
	rows, err := s.db.QueryContext(ctx, statement, args...)
	if err != nil {
		if isMissingTable(err) {
			return nil, nil
		}
		return nil, classify(fmt.Errorf("scan %s: %w", entity, err))
	}
	defer rows.Close()
	var out []stores.Record
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", entity, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("scan %s: %w", entity, err))
	}
	return out, nil
}

// Checksum streams the live rows of a range into a stores.Summer in one
// query; rows are never held in memory together. An entity without a table
// sums to the zero Checksum, as does a client no row can have.
func (s *Store) Checksum(ctx context.Context, entity string, r stores.Range) (stores.Checksum, error) {
	table, err := tableName(s.cfg.schema(), entity)
	if err != nil {
		return stores.Checksum{}, err
	}
	if !storable(r.Client) {
		var empty stores.Summer
		return empty.Checksum(), nil
	}
	statement, args := rangeStatement("[key], [client], [data]", table, r, true)
	rows, err := s.db.QueryContext(ctx, statement, args...)
	if err != nil {
		if isMissingTable(err) {
			var empty stores.Summer
			return empty.Checksum(), nil
		}
		return stores.Checksum{}, classify(fmt.Errorf("checksum %s: %w", entity, err))
	}
	defer rows.Close()
	var sum stores.Summer
	var key, client string
	var data []byte
	for rows.Next() {
		if err := rows.Scan(&key, &client, &data); err != nil {
			return stores.Checksum{}, fmt.Errorf("checksum %s: %w", entity, err)
		}
		if err := sum.Add(key, client, data); err != nil {
			return stores.Checksum{}, fmt.Errorf("checksum %s: %w", entity, err)
		}
	}
	if err := rows.Err(); err != nil {
		return stores.Checksum{}, classify(fmt.Errorf("checksum %s: %w", entity, err))
	}
	return sum.Checksum(), nil
}

// Entities lists the tables of the schema that have the entity shape,
// sorted, leaving out the ledger and tables of other applications.
func (s *Store) Entities(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, entitiesQuery, sql.Named("schema", s.cfg.schema()))
	if err != nil {
		return nil, classify(fmt.Errorf("list entities: %w", err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list entities: %w", err)
		}
		if events.ValidEntity(name) {
			out = append(out, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("list entities: %w", err))
	}
	sort.Strings(out)
	return out, nil
}
