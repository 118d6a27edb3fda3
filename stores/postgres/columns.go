package postgres

import (
	"encoding/binary"
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

// Each column also writes its whole array in PostgreSQL's binary array
// format itself: pgx's array codec spends, per element, an interface call
// for the element, a reflection check for nil and its type, and two more
// calls to encode it. columnCodec hands the columns to encodeColumn, and
// every other value to pgx's codec.

// column is an apply parameter that encodes itself.
type column interface {
	elementOID() uint32
	// appendElements appends the elements of the binary array format,
	// each with its length, and reports whether one was NULL.
	appendElements(buf []byte) ([]byte, bool)
	size() int
}

func (c keyColumn) elementOID() uint32     { return pgtype.TextOID }
func (c clientColumn) elementOID() uint32  { return pgtype.TextOID }
func (c versionColumn) elementOID() uint32 { return pgtype.Int8OID }
func (c deletedColumn) elementOID() uint32 { return pgtype.BoolOID }
func (c dataColumn) elementOID() uint32    { return pgtype.TextOID }
func (c eventIDColumn) elementOID() uint32 { return pgtype.TextOID }

func (c keyColumn) size() int     { return len(c) }
func (c clientColumn) size() int  { return len(c) }
func (c versionColumn) size() int { return len(c) }
func (c deletedColumn) size() int { return len(c) }
func (c dataColumn) size() int    { return len(c) }
func (c eventIDColumn) size() int { return len(c) }

func appendText(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}

func (c keyColumn) appendElements(buf []byte) ([]byte, bool) {
	for i := range c {
		buf = appendText(buf, c[i].Key)
	}
	return buf, false
}

func (c clientColumn) appendElements(buf []byte) ([]byte, bool) {
	for i := range c {
		buf = appendText(buf, c[i].Client)
	}
	return buf, false
}

func (c versionColumn) appendElements(buf []byte) ([]byte, bool) {
	for i := range c {
		buf = binary.BigEndian.AppendUint32(buf, 8)
		buf = binary.BigEndian.AppendUint64(buf, uint64(c[i].Version))
	}
	return buf, false
}

func (c deletedColumn) appendElements(buf []byte) ([]byte, bool) {
	for i := range c {
		buf = binary.BigEndian.AppendUint32(buf, 1)
		if c[i].Deleted {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
	}
	return buf, false
}

func (c dataColumn) appendElements(buf []byte) ([]byte, bool) {
	null := false
	for i := range c {
		if c[i].Deleted || c[i].Data == nil {
			buf = binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF) // -1: NULL
			null = true
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(c[i].Data)))
		buf = append(buf, c[i].Data...)
	}
	return buf, null
}

func (c eventIDColumn) appendElements(buf []byte) ([]byte, bool) {
	for i := range c {
		buf = appendText(buf, c[i].EventID)
	}
	return buf, false
}

// encodeColumn writes c as a one-dimensional binary array: the number of
// dimensions, whether an element is NULL, the element type, the length and
// lower bound, then the elements.
func encodeColumn(c column, buf []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 1)
	nullFlag := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, c.elementOID())
	buf = binary.BigEndian.AppendUint32(buf, uint32(c.size()))
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf, null := c.appendElements(buf)
	if null {
		binary.BigEndian.PutUint32(buf[nullFlag:], 1)
	}
	return buf
}

// columnCodec is pgx's codec of an array type, with the columns encoding
// themselves in the binary format.
type columnCodec struct{ pgtype.Codec }

func (c columnCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(column); ok && format == pgtype.BinaryFormatCode {
		return columnPlan{}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type columnPlan struct{}

func (columnPlan) Encode(value any, buf []byte) ([]byte, error) {
	return encodeColumn(value.(column), buf), nil
}

// registerColumnCodecs wraps the codecs of the apply statement's array
// types (text[], int8[], bool[]) on one connection.
func registerColumnCodecs(m *pgtype.Map) {
	for _, oid := range []uint32{pgtype.TextArrayOID, pgtype.Int8ArrayOID, pgtype.BoolArrayOID} {
		if t, ok := m.TypeForOID(oid); ok {
			if _, wrapped := t.Codec.(columnCodec); !wrapped {
				m.RegisterType(&pgtype.Type{Name: t.Name, OID: oid, Codec: columnCodec{t.Codec}})
			}
		}
	}
}
