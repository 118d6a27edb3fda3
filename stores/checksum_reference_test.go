package stores

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// canonicalReference is the map-based Canonical that the single-pass
// canonicalizer replaced; the tests hold the two to byte-identical output.
func canonicalReference(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	var buf bytes.Buffer
	if err := writeCanonicalReference(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeCanonicalReference(buf *bytes.Buffer, v any) error {
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
			writeStringReference(buf, name)
			buf.WriteByte(':')
			if err := writeCanonicalReference(buf, x[name]); err != nil {
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
			if err := writeCanonicalReference(buf, elem); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		writeStringReference(buf, x)
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

func writeStringReference(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

// summerReference is the Summer.Add of before: a new hash and the
// map-based canonical form per row.
type summerReference struct {
	count  int64
	hi, lo uint64
}

func (s *summerReference) Add(key, client string, doc []byte) error {
	canon, err := canonicalReference(doc)
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
	return nil
}

func (s *summerReference) digest() string { return fmt.Sprintf("%016x%016x", s.hi, s.lo) }
