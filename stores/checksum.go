package stores

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
)

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
//
// Add reuses the Summer's buffers from row to row, so adding a row
// allocates nothing once they have grown: a Summer serves one goroutine at
// a time and must not be copied once used.
type Summer struct {
	count   int64
	hi, lo  uint64
	lastKey string

	buf   []byte // key, 0, client, 0, canonical document: what a row hashes
	canon canonicalizer
}

// Add adds one live row. doc is canonicalized first.
func (s *Summer) Add(key, client string, doc []byte) error {
	buf := append(s.buf[:0], key...)
	buf = append(buf, 0)
	buf = append(buf, client...)
	buf = append(buf, 0)
	buf, err := s.canon.appendCanonical(buf, doc)
	s.canon.in = nil
	s.buf = buf
	if err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	sum := sha256.Sum256(buf)
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
