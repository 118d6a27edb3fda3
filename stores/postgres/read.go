package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

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
		return stores.Record{}, fmt.Errorf("postgres: get %s/%s: %w", entity, key, stores.ErrNoEntity)
	}
	if !validText(key) {
		return stores.Record{}, fmt.Errorf("postgres: get %s/%q: %w", entity, key, stores.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `SELECT key, client, version, deleted, data, updated_at FROM `+s.table(entity)+` WHERE key = $1`, key)
	if err != nil {
		s.forgetOnMissingTable(err, entity)
		return stores.Record{}, classify(fmt.Errorf("postgres: get %s/%s: %w", entity, key, err))
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if errors.Is(err, pgx.ErrNoRows) {
		return stores.Record{}, fmt.Errorf("postgres: get %s/%s: %w", entity, key, stores.ErrNotFound)
	}
	if err != nil {
		return stores.Record{}, classify(fmt.Errorf("postgres: get %s/%s: %w", entity, key, err))
	}
	return rec, nil
}

// Scan returns the rows of a range in key order, tombstones included, with
// one keyset query. An entity without a table scans empty.
func (s *Store) Scan(ctx context.Context, entity string, r stores.Range) ([]stores.Record, error) {
	ok, err := s.readableTable(ctx, entity)
	if err != nil || !ok {
		return nil, err
	}
	query, args := s.rangeQuery(entity, "key, client, version, deleted, data, updated_at", r, false)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		s.forgetOnMissingTable(err, entity)
		return nil, classify(fmt.Errorf("postgres: scan %s: %w", entity, err))
	}
	out := make([]stores.Record, 0, max(r.Limit, 0))
	out, err = pgx.AppendRows(out, rows, scanRecord)
	if err != nil {
		return nil, classify(fmt.Errorf("postgres: scan %s: %w", entity, err))
	}
	return out, nil
}

// Checksum streams the live rows of a range into a stores.Summer, one row
// at a time, so a range of any size is summed in constant memory; Limit
// counts live rows. An entity without a table sums to the zero Checksum.
func (s *Store) Checksum(ctx context.Context, entity string, r stores.Range) (stores.Checksum, error) {
	var sum stores.Summer
	ok, err := s.readableTable(ctx, entity)
	if err != nil || !ok {
		return sum.Checksum(), err
	}
	// data::text makes the server send the document as text in both wire
	// formats, so the raw column bytes are the JSON.
	query, args := s.rangeQuery(entity, "key, client, data::text", r, true)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		s.forgetOnMissingTable(err, entity)
		return stores.Checksum{}, classify(fmt.Errorf("postgres: checksum %s: %w", entity, err))
	}
	defer rows.Close()
	for rows.Next() {
		raw := rows.RawValues()
		if err := sum.Add(string(raw[0]), string(raw[1]), raw[2]); err != nil {
			return stores.Checksum{}, fmt.Errorf("postgres: checksum %s: %w", entity, err)
		}
	}
	if err := rows.Err(); err != nil {
		return stores.Checksum{}, classify(fmt.Errorf("postgres: checksum %s: %w", entity, err))
	}
	return sum.Checksum(), nil
}

// rangeQuery builds the keyset query of a range, ordered by the primary
// key (collation "C": byte order) so the server walks its index.
func (s *Store) rangeQuery(entity, columns string, r stores.Range, liveOnly bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+strconv.Itoa(len(args)))
	}
	if r.After != "" {
		add("key > $", r.After)
	}
	if r.Through != "" {
		add("key <= $", r.Through)
	}
	if r.Client != "" {
		add("client = $", r.Client)
	}
	if liveOnly {
		where = append(where, "NOT deleted")
	}
	q := "SELECT " + columns + " FROM " + s.table(entity)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY key"
	if r.Limit > 0 {
		args = append(args, int64(r.Limit))
		q += " LIMIT $" + strconv.Itoa(len(args))
	}
	return q, args
}

func scanRecord(row pgx.CollectableRow) (stores.Record, error) {
	var rec stores.Record
	var data []byte
	if err := row.Scan(&rec.Key, &rec.Client, &rec.Version, &rec.Deleted, &data, &rec.UpdatedAt); err != nil {
		return rec, err
	}
	if !rec.Deleted && data != nil {
		rec.Data = data
	}
	return rec, nil
}

// pruneChunk bounds each pruning statement, so pruning a large ledger
// holds few locks at a time and never one huge transaction.
const pruneChunk = 10000

// PruneLedger deletes ledger entries recorded before cutoff, in chunks, and
// returns how many it deleted. A failure returns the count deleted so far.
func (s *Store) PruneLedger(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := s.ensureBookkeeping(ctx); err != nil {
		return 0, err
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `
DELETE FROM `+s.ledger+` WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM `+s.ledger+` WHERE applied_at < $1 LIMIT $2))`, cutoff, int64(pruneChunk))
		if err != nil {
			return total, classify(fmt.Errorf("postgres: prune ledger: %w", err))
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneChunk {
			return total, nil
		}
	}
}

// validText reports whether PostgreSQL text can hold s: valid UTF-8 without
// NUL. A key it cannot hold has no row, and sending it would fail the query.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}
