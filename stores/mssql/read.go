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

// recordColumns are the columns of a Record, selected from a table aliased
// t. Keys and clients are read as NVARCHAR (see textColumn); [data] already
// is NVARCHAR(MAX).
var recordColumns = textColumn("key") + ", " + textColumn("client") + ", t.[version], t.[deleted], t.[data], t.[updated_at]"

// checksumColumns are the columns a Checksum sums.
var checksumColumns = textColumn("key") + ", " + textColumn("client") + ", t.[data]"

// textColumn selects the [key] or [client] column of the table aliased t
// converted to NVARCHAR(255), under its own name.
//
// The columns are VARCHAR under a UTF-8 collation, and go-mssqldb v1.11.2
// decodes VARCHAR by a code page alone: decodeChar calls
// cp.CharsetToUTF8, whose collation2charset picks the code page from the
// collation's sort id and then its LCID and never reads the UTF-8 flag, so
// for Latin1_General_100_BIN2_UTF8 (LCID 0x0409) it decodes the UTF-8
// bytes as cp1252 and "é" comes back as "Ã©". NVARCHAR travels as UTF-16
// and is decoded by decodeNChar (ucs22str), code page free. SQL Server
// converts UTF-8 VARCHAR to NVARCHAR without loss ("Collation and Unicode
// support": both are Unicode encodings), and 255 bytes of UTF-8 are at most
// 255 UTF-16 code units, so NVARCHAR(255) holds every stored value.
//
// Comparisons and ORDER BY name the base column, t.[key], never this alias:
// ordered by the NVARCHAR value, supplementary characters would sort by
// UTF-16 code unit instead of code point, and the index order would be lost.
func textColumn(name string) string {
	return "CONVERT(NVARCHAR(255), t." + quote(name) + ") AS " + quote(name)
}

func getStatement(table string) string {
	return "SELECT " + recordColumns + " FROM " + table + " AS t WHERE t.[key] = " + keyParam("key") + ";"
}

// holdable reports whether s could be a stored key or client: allowed by
// the identifier rule (events.IdentifierProblem: at most 255 bytes of
// valid UTF-8, no control character, no trailing space). SQL Server pads
// the shorter string with spaces before it compares ("How SQL Server
// compares strings with trailing spaces", KB 316626; so do PRIMARY KEY
// and UNIQUE, under every collation), so WHERE [key] = 'a ' would find the
// row "a": a value the rule refuses is answered without asking the server.
func holdable(s string) bool {
	return events.IdentifierProblem(s, keyColumnBytes) == ""
}

// rangeBound returns the bound to send for a Range's After or Through.
// Stored keys hold no byte below 0x20 (the identifier rule refuses control
// characters) and never end in a space, and under those two conditions SQL
// Server's padded comparison of a key with a bound agrees with byte order
// for > and <=, except where the bound itself holds a byte below 0x20,
// which padding compares with a space. Such a bound is cut before that
// byte: every key that extends the part before it sorts above the whole
// bound in byte order, as it does above the cut one. A key made only of
// spaces, which padding would make equal to the empty string, cannot
// exist. The result is then brought within the column (see keyFloor).
func rangeBound(bound string) string {
	for i := 0; i < len(bound); i++ {
		if bound[i] < 0x20 {
			bound = bound[:i]
			break
		}
	}
	return keyFloor(bound)
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
// keyParam), bounds first made exact and brought within it (see
// rangeBound); only their presence shapes the text. Every string parameter
// is declared NVARCHAR(MAX) (see fixedText), so one plan serves every
// bound.
func rangeStatement(columns, table string, r stores.Range, liveOnly bool) (string, []any) {
	var sb strings.Builder
	args := []any{sql.Named("after", fixedText(rangeBound(r.After)))}
	sb.WriteString("SELECT ")
	if r.Limit > 0 {
		sb.WriteString("TOP (@limit) ")
		args = append(args, sql.Named("limit", int64(r.Limit)))
	}
	sb.WriteString(columns + " FROM " + table + " AS t WHERE t.[key] > " + keyParam("after"))
	if r.Through != "" {
		sb.WriteString(" AND t.[key] <= " + keyParam("through"))
		args = append(args, sql.Named("through", fixedText(rangeBound(r.Through))))
	}
	if r.Client != "" {
		sb.WriteString(" AND t.[client] = " + keyParam("client"))
		args = append(args, sql.Named("client", fixedText(r.Client)))
	}
	if liveOnly {
		sb.WriteString(" AND t.[deleted] = 0")
	}
	sb.WriteString(" ORDER BY t.[key];")
	return sb.String(), args
}

const entitiesQuery = `SELECT t.[name] FROM sys.tables AS t
WHERE t.[schema_id] = SCHEMA_ID(@schema) AND t.[name] <> N'switchyard_ledger'
    AND (SELECT COUNT(*) FROM sys.columns AS c WHERE c.[object_id] = t.[object_id] AND c.[name] IN (N'key', N'client', N'version', N'deleted', N'data', N'updated_at')) = 6;`

// Get returns the row of key, tombstone included. It fails with an error
// matching stores.ErrNotFound when the key has no row, stores.ErrNoEntity
// when the entity has no table (or is not a valid entity name), and a
// classified driver error otherwise. A key no write could store (over 255
// bytes, not valid UTF-8, or refused by events.IdentifierProblem: a
// control character or a trailing space) is not found without asking the
// server, so Get("a ") can never return the row "a".
func (s *Store) Get(ctx context.Context, entity, key string) (stores.Record, error) {
	table, err := tableName(s.cfg.schema(), entity)
	if err != nil {
		return stores.Record{}, fmt.Errorf("%w: %v", stores.ErrNoEntity, err)
	}
	if !holdable(key) {
		return stores.Record{}, fmt.Errorf("get %s/%q: no key can be stored that %s: %w", entity, key, events.IdentifierProblem(key, keyColumnBytes), stores.ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, getStatement(table), sql.Named("key", fixedText(key)))
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
// Keys and clients are read as NVARCHAR (see textColumn).
func (s *Store) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	table, err := tableName(s.cfg.schema(), entity)
	if err != nil {
		return nil, err
	}
	if !holdable(r.Client) {
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
	if !holdable(r.Client) {
		var empty stores.Summer
		return empty.Checksum(), nil
	}
	statement, args := rangeStatement(checksumColumns, table, r, true)
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
