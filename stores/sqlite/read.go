package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// Get returns the row of key, tombstone included. It fails with an error
// matching stores.ErrNoEntity when the entity has no table and
// stores.ErrNotFound when the key has neither row nor tombstone.
func (s *Store) Get(ctx context.Context, entity, key string) (stores.Record, error) {
	ok, err := s.readableTable(ctx, entity)
	if err != nil {
		return stores.Record{}, err
	}
	if !ok {
		return stores.Record{}, fmt.Errorf("sqlite %s: get %s/%s: %w", s.path, entity, key, stores.ErrNoEntity)
	}
	row := s.reader.QueryRowContext(ctx,
		`SELECT key, client, version, deleted, data, updated_at FROM `+quote(entity)+` WHERE key = ?1`, key)
	rec, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return stores.Record{}, fmt.Errorf("sqlite %s: get %s/%s: %w", s.path, entity, key, stores.ErrNotFound)
	}
	if err != nil {
		return stores.Record{}, classify(fmt.Errorf("sqlite %s: get %s/%s: %w", s.path, entity, key, err))
	}
	return rec, nil
}

// Scan returns the rows of a range in key order, tombstones included. An
// entity without a table scans empty.
func (s *Store) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	ok, err := s.readableTable(ctx, entity)
	if err != nil || !ok {
		return nil, err
	}
	query, args := rangeQuery(entity, "key, client, version, deleted, data, updated_at", r, false)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(fmt.Errorf("sqlite %s: scan %s: %w", s.path, entity, err))
	}
	defer rows.Close()
	var out []stores.Record
	if r.Limit > 0 {
		out = make([]stores.Record, 0, r.Limit)
	}
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			return nil, classify(fmt.Errorf("sqlite %s: scan %s: %w", s.path, entity, err))
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("sqlite %s: scan %s: %w", s.path, entity, err))
	}
	return out, nil
}

// Checksum streams the live rows of a range into a stores.Summer; Limit
// counts live rows. An entity without a table sums to the zero Checksum.
func (s *Store) Checksum(ctx context.Context, entity string, r stores.Range) (stores.Checksum, error) {
	var sum stores.Summer
	ok, err := s.readableTable(ctx, entity)
	if err != nil || !ok {
		return sum.Checksum(), err
	}
	query, args := rangeQuery(entity, "key, client, data", r, true)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return stores.Checksum{}, classify(fmt.Errorf("sqlite %s: checksum %s: %w", s.path, entity, err))
	}
	defer rows.Close()
	var key, client string
	var data sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&key, &client, &data); err != nil {
			return stores.Checksum{}, classify(fmt.Errorf("sqlite %s: checksum %s: %w", s.path, entity, err))
		}
		if err := sum.Add(key, client, data); err != nil {
			return stores.Checksum{}, fmt.Errorf("sqlite %s: checksum %s: %w", s.path, entity, err)
		}
	}
	if err := rows.Err(); err != nil {
		return stores.Checksum{}, classify(fmt.Errorf("sqlite %s: checksum %s: %w", s.path, entity, err))
	}
	return sum.Checksum(), nil
}

// rangeQuery builds the keyset query of a range: bounds and client as
// parameters, ordered by the primary key so SQLite walks its index.
func rangeQuery(entity, columns string, r stores.Range, liveOnly bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "?"+strconv.Itoa(len(args))))
	}
	if r.After != "" {
		add("key > ?", r.After)
	}
	if r.Through != "" {
		add("key <= ?", r.Through)
	}
	if r.Client != "" {
		add("client = ?", r.Client)
	}
	if liveOnly {
		where = append(where, "deleted = 0")
	}
	q := "SELECT " + columns + " FROM " + quote(entity)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY key"
	if r.Limit > 0 {
		args = append(args, r.Limit)
		q += " LIMIT ?" + strconv.Itoa(len(args))
	}
	return q, args
}

type rowScanner interface{ Scan(dest ...any) error }

func scanRecord(row rowScanner) (stores.Record, error) {
	var rec stores.Record
	var data sql.NullString
	var updatedAt string
	if err := row.Scan(&rec.Key, &rec.Client, &rec.Version, &rec.Deleted, &data, &updatedAt); err != nil {
		return rec, err
	}
	if data.Valid && !rec.Deleted {
		rec.Data = []byte(data.String)
	}
	t, err := time.Parse(time.RFC3339Nano, updatedAt)
	if err != nil {
		return rec, fmt.Errorf("key %q: updated_at %q: %w", rec.Key, updatedAt, err)
	}
	rec.UpdatedAt = t
	return rec, nil
}

// pruneChunk bounds each pruning transaction, so pruning a large ledger
// never holds the single writer for long.
const pruneChunk = 5000

// PruneLedger deletes ledger entries recorded before cutoff, in chunks, and
// returns how many it deleted. A failure returns the count deleted so far.
func (s *Store) PruneLedger(ctx context.Context, cutoff time.Time) (int64, error) {
	before := cutoff.UTC().Format(timeLayout)
	var total int64
	for {
		res, err := s.writer.ExecContext(ctx, `
DELETE FROM switchyard_ledger WHERE rowid IN (
  SELECT rowid FROM switchyard_ledger WHERE applied_at < ?1 LIMIT ?2)`, before, pruneChunk)
		if err != nil {
			return total, classify(fmt.Errorf("sqlite %s: prune ledger: %w", s.path, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, classify(fmt.Errorf("sqlite %s: prune ledger: %w", s.path, err))
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}
