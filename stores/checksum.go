package stores

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// CanonicalNumber spells a JSON number canonically: an integral value as
// plain decimal digits, any other value as the shortest float64 form.
//
// A number of magnitude 1e151 or more (beyond what the 512-bit parse below
// holds exactly) or below 1e-1000 is spelled in normalized scientific
// notation from its exact significant digits, such as "1.25e+999999999",
// however it is written ("125e999999997" and a literal of a billion digits
// agree): the spelling depends only on the value, and a hostile document
// cannot make a checksum build a billion-digit integer.
func CanonicalNumber(num string) (string, error) {
	if sci, ok := hugeNumber(num); ok {
		return sci, nil
	}
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

// Decimal exponents beyond which CanonicalNumber spells numbers in
// scientific notation instead of expanding or parsing them.
const (
	maxCanonicalExponent = 150
	minCanonicalExponent = -1000
)

// hugeNumber spells a JSON number whose decimal exponent is above
// maxCanonicalExponent or below minCanonicalExponent as sign, first digit,
// remaining significant digits and exponent ("-1.5e+2000"); ok is false for
// every other number, and for text that is not a JSON number
// (CanonicalNumber reports those).
func hugeNumber(num string) (string, bool) {
	mant, exp, hasExp := strings.Cut(strings.ToLower(num), "e")
	if !hasExp {
		exp = "0"
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, fracPart, _ := strings.Cut(mant, ".")
	digits := intPart + fracPart
	e, ok := new(big.Int).SetString(strings.TrimPrefix(exp, "+"), 10)
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	// value = 0.d1d2… × 10^(point+exp) with d1 the first non-zero digit.
	point := len(intPart)
	trimmed := strings.TrimLeft(digits, "0")
	if trimmed == "" {
		return "", false // zero
	}
	point -= len(digits) - len(trimmed)
	trimmed = strings.TrimRight(trimmed, "0")
	sciExp := e.Add(e, big.NewInt(int64(point-1)))
	if sciExp.Cmp(big.NewInt(maxCanonicalExponent)) <= 0 && sciExp.Cmp(big.NewInt(minCanonicalExponent)) >= 0 {
		return "", false
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte(trimmed[0])
	if len(trimmed) > 1 {
		b.WriteByte('.')
		b.WriteString(trimmed[1:])
	}
	b.WriteByte('e')
	if sciExp.Sign() > 0 {
		b.WriteByte('+')
	}
	b.WriteString(sciExp.String())
	return b.String(), true
}
