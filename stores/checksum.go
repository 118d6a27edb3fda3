package stores

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
)

// Canonical returns the canonical form of a JSON document: object members
// sorted by name, no insignificant white space, no HTML escaping, and numbers
// in one spelling (integers as plain decimal digits, so 1.0 and 1 and 1e0
// agree; other numbers as the shortest float64 form). Stores that keep JSON
// as text, as jsonb or as native documents then compare equal.
func Canonical(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	var buf bytes.Buffer
	if err := writeCanonical(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeCanonical(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(x))
		for name := range x {
			names = append(names, name)
		}
		sort.Strings(names)
		buf.WriteByte('{')
		for i, name := range names {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, name)
			buf.WriteByte(':')
			if err := writeCanonical(buf, x[name]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, elem := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeCanonical(buf, elem); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, x)
	case json.Number:
		s, err := CanonicalNumber(string(x))
		if err != nil {
			return err
		}
		buf.WriteString(s)
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case nil:
		buf.WriteString("null")
	default:
		return fmt.Errorf("canonical JSON: unexpected %T", v)
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

// CanonicalNumber spells a JSON number canonically: an integral value as
// plain decimal digits, any other value as the shortest float64 form.
func CanonicalNumber(num string) (string, error) {
	f, _, err := big.ParseFloat(num, 10, 512, big.ToNearestEven)
	if err != nil {
		return "", fmt.Errorf("canonical JSON: number %q: %w", num, err)
	}
	if f.IsInt() {
		i, _ := f.Int(nil)
		return i.String(), nil
	}
	f64, _ := f.Float64()
	return strconv.FormatFloat(f64, 'g', -1, 64), nil
}

// Summer accumulates a Checksum over rows in key order. Adapters that scan
// rows feed it; the digest is a sum of per-row hashes, so it does not depend
// on how a range is split into chunks.
type Summer struct {
	count   int64
	hi, lo  uint64
	lastKey string
}

// Add adds one live row. doc is canonicalized first.
func (s *Summer) Add(key, client string, doc []byte) error {
	canon, err := Canonical(doc)
	if err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(client))
	h.Write([]byte{0})
	h.Write(canon)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	s.hi += binary.BigEndian.Uint64(sum[0:8])
	s.lo += binary.BigEndian.Uint64(sum[8:16])
	s.count++
	s.lastKey = key
	return nil
}

// Count returns how many rows were added.
func (s *Summer) Count() int64 { return s.count }

// Checksum returns the summary of the rows added so far.
func (s *Summer) Checksum() Checksum {
	c := Checksum{Count: s.count, Digest: fmt.Sprintf("%016x%016x", s.hi, s.lo)}
	if s.count > 0 {
		c.LastKey = s.lastKey
	}
	return c
}

// ChecksumRecords sums the live rows of recs, which must be in key order.
func ChecksumRecords(recs []Record) (Checksum, error) {
	var s Summer
	for _, r := range recs {
		if r.Deleted {
			continue
		}
		if err := s.Add(r.Key, r.Client, r.Data); err != nil {
			return Checksum{}, err
		}
	}
	return s.Checksum(), nil
}
