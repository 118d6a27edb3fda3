package postgres

import (
	"unsafe"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/switchyard/switchyard/stores"
)

// The array parameters of an apply statement are views of the writes
// themselves, one type per column. pgx encodes an array element by element
// through pgtype.ArrayGetter.Index, which returns an any: a []string or
// []int64 boxes every element there (an allocation per write and column),
// and building the slices copies every write once more. A column's Index
// instead returns a pointer into the writes, converted to a type whose
// Valuer method hands pgx the field (pointers fit in an any without an
// allocation), so encoding a batch allocates nothing per write.

type (
	keyColumn     []stores.Write
	clientColumn  []stores.Write
	versionColumn []stores.Write
	deletedColumn []stores.Write
	dataColumn    []stores.Write
	eventIDColumn []stores.Write

	keyField     stores.Write
	clientField  stores.Write
	versionField stores.Write
	deletedField stores.Write
	dataField    stores.Write
	eventIDField stores.Write
)

// dimensions is the shape of a one-dimensional array of n elements.
func dimensions(n int) []pgtype.ArrayDimension {
	return []pgtype.ArrayDimension{{Length: int32(n), LowerBound: 1}}
}

func (c keyColumn) Dimensions() []pgtype.ArrayDimension     { return dimensions(len(c)) }
func (c clientColumn) Dimensions() []pgtype.ArrayDimension  { return dimensions(len(c)) }
func (c versionColumn) Dimensions() []pgtype.ArrayDimension { return dimensions(len(c)) }
func (c deletedColumn) Dimensions() []pgtype.ArrayDimension { return dimensions(len(c)) }
func (c dataColumn) Dimensions() []pgtype.ArrayDimension    { return dimensions(len(c)) }
func (c eventIDColumn) Dimensions() []pgtype.ArrayDimension { return dimensions(len(c)) }

func (c keyColumn) Index(i int) any     { return (*keyField)(&c[i]) }
func (c clientColumn) Index(i int) any  { return (*clientField)(&c[i]) }
func (c versionColumn) Index(i int) any { return (*versionField)(&c[i]) }
func (c deletedColumn) Index(i int) any { return (*deletedField)(&c[i]) }
func (c eventIDColumn) Index(i int) any { return (*eventIDField)(&c[i]) }

// Index is NULL for a tombstone (or a write without a document).
func (c dataColumn) Index(i int) any {
	if c[i].Deleted || c[i].Data == nil {
		return nil
	}
	return (*dataField)(&c[i])
}

func (keyColumn) IndexType() any     { return (*keyField)(nil) }
func (clientColumn) IndexType() any  { return (*clientField)(nil) }
func (versionColumn) IndexType() any { return (*versionField)(nil) }
func (deletedColumn) IndexType() any { return (*deletedField)(nil) }
func (dataColumn) IndexType() any    { return (*dataField)(nil) }
func (eventIDColumn) IndexType() any { return (*eventIDField)(nil) }

func (f *keyField) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: f.Key, Valid: true}, nil
}

func (f *clientField) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: f.Client, Valid: true}, nil
}

func (f *versionField) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: f.Version, Valid: true}, nil
}

func (f *deletedField) BoolValue() (pgtype.Bool, error) {
	return pgtype.Bool{Bool: f.Deleted, Valid: true}, nil
}

// TextValue passes the document without a copy: pgx appends the string to
// its buffer at once and keeps no reference, and nothing writes to the
// document while Apply runs.
func (f *dataField) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: unsafe.String(unsafe.SliceData(f.Data), len(f.Data)), Valid: true}, nil
}

// TextValue is "" for a write without an event id (an id is never empty):
// the statement turns it into NULL.
func (f *eventIDField) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: f.EventID, Valid: true}, nil
}
