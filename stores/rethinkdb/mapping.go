package rethinkdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/stores"
)

// pseudoTypeField is how RethinkDB marks TIME, BINARY and GEOMETRY values.
const pseudoTypeField = "$reql_type$"

// maxKeyBytes is RethinkDB's limit on primary key length.
const maxKeyBytes = 127

// maxExactInteger is 2^53: every integer up to it is exact in a double.
const maxExactInteger = 1 << 53

// maxArrayElements is RethinkDB's default array_limit: a query may neither
// hold nor build a longer array.
const maxArrayElements = 100_000

// writeDocument builds the document Apply writes for w, or returns the
// reason it cannot be stored (for a *stores.RejectError).
//
// A live document is the write's data plus the metadata fields: the
// version, and when the data lacks the key or client field, those fields
// with the write's values and the list of the added names, so that reading
// it back yields exactly the data that was written. A tombstone is the key,
// the client, the version and the deleted flag.
func (c Config) writeDocument(w stores.Write) (map[string]any, string) {
	switch {
	case len(w.Key) > maxKeyBytes:
		return nil, fmt.Sprintf("key is %d bytes; RethinkDB primary keys are at most %d", len(w.Key), maxKeyBytes)
	case w.Version > maxExactInteger:
		return nil, fmt.Sprintf("version %d is above 2^53 and cannot be stored exactly in a RethinkDB number", w.Version)
	}
	if w.Deleted {
		doc := map[string]any{c.KeyField: w.Key, c.VersionField: float64(w.Version), c.DeletedField: true}
		if w.Client != "" {
			doc[c.ClientField] = w.Client
		}
		return doc, ""
	}
	dec := json.NewDecoder(bytes.NewReader(w.Data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Sprintf("data is not a JSON object: %v", err)
	}
	for _, f := range c.bookkeeping() {
		if _, has := raw[f]; has {
			return nil, fmt.Sprintf("data has the field %q, which this store keeps for its own bookkeeping; configure another field name in the DSN", f)
		}
	}
	converted, reason := toReQL(raw, "data")
	if reason != "" {
		return nil, reason
	}
	doc := converted.(map[string]any)
	var added []any
	if v, has := doc[c.KeyField]; !has {
		doc[c.KeyField] = w.Key
		added = append(added, c.KeyField)
	} else if s, ok := v.(string); !ok || s != w.Key {
		return nil, fmt.Sprintf("data field %q is %s, but the key is %q", c.KeyField, describe(v), w.Key)
	}
	if v, has := doc[c.ClientField]; !has {
		if w.Client != "" {
			doc[c.ClientField] = w.Client
			added = append(added, c.ClientField)
		}
	} else if s, ok := v.(string); !ok || s != w.Client {
		return nil, fmt.Sprintf("data field %q is %s, but the client is %q", c.ClientField, describe(v), w.Client)
	}
	if len(added) > 0 {
		doc[c.AddedField] = added
	}
	doc[c.VersionField] = float64(w.Version)
	return doc, ""
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v (not a string)", v)
}

// toReQL converts a decoded JSON value into what the driver sends: numbers
// become doubles, and only if that loses nothing; objects that RethinkDB
// would read as pseudo-types are refused.
func toReQL(v any, path string) (any, string) {
	switch x := v.(type) {
	case map[string]any:
		if _, has := x[pseudoTypeField]; has {
			return nil, fmt.Sprintf("%s has the field %q, which RethinkDB reserves for its TIME, BINARY and GEOMETRY values", path, pseudoTypeField)
		}
		out := make(map[string]any, len(x))
		for k, elem := range x {
			conv, reason := toReQL(elem, path+"."+k)
			if reason != "" {
				return nil, reason
			}
			out[k] = conv
		}
		return out, ""
	case []any:
		if len(x) > maxArrayElements {
			return nil, fmt.Sprintf("%s is an array of %d elements; RethinkDB arrays hold at most %d", path, len(x), maxArrayElements)
		}
		out := make([]any, len(x))
		for i, elem := range x {
			conv, reason := toReQL(elem, fmt.Sprintf("%s[%d]", path, i))
			if reason != "" {
				return nil, reason
			}
			out[i] = conv
		}
		return out, ""
	case json.Number:
		return toDouble(string(x), path)
	default:
		return v, ""
	}
}

// toDouble converts a JSON number to the double RethinkDB stores, refusing
// numbers that would read back differently: integers beyond ±2^53 and
// values outside the double range.
func toDouble(num, path string) (any, string) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Sprintf("%s: number %s is outside the range of a double, the only number type of RethinkDB", path, clip(num))
	}
	want, err1 := stores.CanonicalNumber(num)
	got, err2 := stores.CanonicalNumber(strconv.FormatFloat(f, 'g', -1, 64))
	if err1 != nil || err2 != nil || want != got {
		return nil, fmt.Sprintf("%s: number %s cannot be stored exactly as a double, the only number type of RethinkDB (it would read back as %s); integers must lie within ±2^53 (9007199254740992)", path, clip(num), clip(got))
	}
	return f, ""
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// readRecord turns a document read with raw pseudo-types into a record.
// It fails when the bookkeeping fields hold values Switchyard never writes:
// a non-string key or client, or a version that is not a whole number.
func (c Config) readRecord(v any) (stores.Record, error) {
	doc, ok := v.(map[string]any)
	if !ok {
		return stores.Record{}, fmt.Errorf("document is %T, not an object", v)
	}
	var rec stores.Record
	if rec.Key, ok = doc[c.KeyField].(string); !ok {
		return stores.Record{}, fmt.Errorf("document has a primary key %v that is not a string", doc[c.KeyField])
	}
	if cl, has := doc[c.ClientField]; has && cl != nil {
		if rec.Client, ok = cl.(string); !ok {
			return stores.Record{}, fmt.Errorf("document %q: field %q is %v, not a string", rec.Key, c.ClientField, cl)
		}
	}
	version, err := readVersion(doc[c.VersionField])
	if err != nil {
		return stores.Record{}, fmt.Errorf("document %q: field %q: %w", rec.Key, c.VersionField, err)
	}
	rec.Version = version
	if rec.UpdatedAt, err = readTime(doc[c.UpdatedField]); err != nil {
		return stores.Record{}, fmt.Errorf("document %q: field %q: %w", rec.Key, c.UpdatedField, err)
	}
	if deleted, _ := doc[c.DeletedField].(bool); deleted {
		rec.Deleted = true
		return rec, nil
	}
	data := make(map[string]any, len(doc))
	for k, val := range doc {
		data[k] = val
	}
	delete(data, c.VersionField)
	delete(data, c.DeletedField)
	delete(data, c.UpdatedField)
	if added, ok := doc[c.AddedField].([]any); ok {
		for _, name := range added {
			if s, ok := name.(string); ok {
				delete(data, s)
			}
		}
	}
	delete(data, c.AddedField)
	plain, err := fromReQL(data)
	if err != nil {
		return stores.Record{}, fmt.Errorf("document %q: %w", rec.Key, err)
	}
	if rec.Data, err = marshal(plain); err != nil {
		return stores.Record{}, fmt.Errorf("document %q: %w", rec.Key, err)
	}
	return rec, nil
}

// readTime reads the raw TIME value of the updated field; a document
// without it (written by the application, not by Switchyard) has the zero
// time.
func readTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	x, ok := v.(map[string]any)
	if !ok || x[pseudoTypeField] != "TIME" {
		return time.Time{}, fmt.Errorf("%v is not a TIME value", v)
	}
	epoch, err := number(x["epoch_time"])
	if err != nil {
		return time.Time{}, fmt.Errorf("TIME value: epoch_time %w", err)
	}
	return time.UnixMicro(int64(math.Round(epoch * 1e6))).UTC(), nil
}

func readVersion(v any) (int64, error) {
	var f float64
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		f = x
	case json.Number:
		parsed, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a number", x)
		}
		f = parsed
	default:
		return 0, fmt.Errorf("%v is not a number", v)
	}
	if f < 0 || f != math.Trunc(f) || f > maxExactInteger {
		return 0, fmt.Errorf("%v is not a whole number from 0 to 2^53", f)
	}
	return int64(f), nil
}

// fromReQL converts RethinkDB's raw pseudo-types into plain JSON: TIME to an
// RFC 3339 string in the value's own time zone, with milliseconds when they
// are not zero; BINARY to its standard base64 text; GEOMETRY to its GeoJSON
// object.
func fromReQL(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if kind, has := x[pseudoTypeField]; has {
			return fromPseudoType(kind, x)
		}
		out := make(map[string]any, len(x))
		for k, elem := range x {
			conv, err := fromReQL(elem)
			if err != nil {
				return nil, err
			}
			out[k] = conv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, elem := range x {
			conv, err := fromReQL(elem)
			if err != nil {
				return nil, err
			}
			out[i] = conv
		}
		return out, nil
	default:
		return v, nil
	}
}

func fromPseudoType(kind any, x map[string]any) (any, error) {
	switch kind {
	case "TIME":
		epoch, err := number(x["epoch_time"])
		if err != nil {
			return nil, fmt.Errorf("TIME value: epoch_time %w", err)
		}
		loc, err := zone(x["timezone"])
		if err != nil {
			return nil, err
		}
		t := time.UnixMilli(int64(math.Round(epoch * 1000))).In(loc)
		return t.Format("2006-01-02T15:04:05.999Z07:00"), nil
	case "BINARY":
		data, ok := x["data"].(string)
		if !ok {
			return nil, fmt.Errorf("BINARY value without base64 data")
		}
		return data, nil
	case "GEOMETRY":
		out := make(map[string]any, len(x))
		for k, elem := range x {
			if k != pseudoTypeField {
				out[k] = elem
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported RethinkDB type %v", kind)
}

func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case json.Number:
		return x.Float64()
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// zone parses RethinkDB's "+HH:MM" / "-HH:MM" time zones.
func zone(v any) (*time.Location, error) {
	s, _ := v.(string)
	if s == "" || s == "Z" {
		return time.UTC, nil
	}
	t, err := time.Parse("-07:00", s)
	if err != nil {
		return nil, fmt.Errorf("TIME value: time zone %q is not ±HH:MM", s)
	}
	_, offset := t.Zone()
	if offset == 0 {
		return time.UTC, nil
	}
	return time.FixedZone(s, offset), nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
