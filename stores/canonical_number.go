package stores

import "strconv"

// scanNumber moves past the JSON number at c.pos:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *canonicalizer) scanNumber() error {
	in := c.in
	if in[c.pos] == '-' {
		c.pos++
	}
	if c.pos >= len(in) {
		return c.syntaxError("in numeric literal")
	}
	switch b := in[c.pos]; {
	case b == '0':
		c.pos++
	case '1' <= b && b <= '9':
		c.pos = skipDigits(in, c.pos+1)
	default:
		return c.syntaxError("in numeric literal")
	}
	if c.pos < len(in) && in[c.pos] == '.' {
		c.pos++
		if c.pos >= len(in) || !isDigit(in[c.pos]) {
			return c.syntaxError("after decimal point in numeric literal")
		}
		c.pos = skipDigits(in, c.pos+1)
	}
	if c.pos < len(in) && (in[c.pos] == 'e' || in[c.pos] == 'E') {
		c.pos++
		if c.pos < len(in) && (in[c.pos] == '+' || in[c.pos] == '-') {
			c.pos++
		}
		if c.pos >= len(in) || !isDigit(in[c.pos]) {
			return c.syntaxError("in exponent of numeric literal")
		}
		c.pos = skipDigits(in, c.pos+1)
	}
	return nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func skipDigits(s []byte, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// Limits of the fast paths of appendCanonicalNumber.
const (
	// A number of at most fastFloatDigits significant digits and at most
	// fastFloatScale digits after the point is never within 2^-496 of its
	// value of a midpoint between two float64s unless it is one, so
	// rounding it first to 512 bits and then to float64 (CanonicalNumber)
	// gives strconv.ParseFloat's correctly rounded value.
	fastFloatDigits = 19
	fastFloatScale  = 180
	fastFloatLen    = 400
)

// appendCanonicalNumber appends the canonical spelling of the valid JSON
// number tok, byte for byte what CanonicalNumber returns: integral values
// below 10^151 are spelled from the input's digits, other
// values with at most 19 significant digits go through strconv.ParseFloat,
// and the rest through CanonicalNumber itself.
func appendCanonicalNumber(dst, tok []byte) ([]byte, error) {
	i := 0
	neg := tok[0] == '-'
	if neg {
		i++
	}
	intLo := i
	i = skipDigits(tok, i)
	intHi := i
	fracLo, fracHi := i, i
	if i < len(tok) && tok[i] == '.' {
		fracLo = i + 1
		i = skipDigits(tok, fracLo)
		fracHi = i
	}
	exp := 0
	if i < len(tok) { // 'e' or 'E'
		i++
		expNeg := false
		if tok[i] == '+' || tok[i] == '-' {
			expNeg = tok[i] == '-'
			i++
		}
		for i < len(tok) && tok[i] == '0' {
			i++
		}
		if len(tok)-i > 9 {
			return appendSlowNumber(dst, tok)
		}
		for ; i < len(tok); i++ {
			exp = exp*10 + int(tok[i]-'0')
		}
		if expNeg {
			exp = -exp
		}
	}

	// The digits, the integer part's then the fraction's, as one string d
	// of n; the value is ±d × 10^(exp - nFrac).
	nInt, nFrac := intHi-intLo, fracHi-fracLo
	n := nInt + nFrac
	digit := func(p int) byte {
		if p < nInt {
			return tok[intLo+p]
		}
		return tok[fracLo+p-nInt]
	}
	first := 0
	for first < n && digit(first) == '0' {
		first++
	}
	if first == n {
		return append(dst, '0'), nil // any zero, -0 included
	}
	last := n - 1
	for digit(last) == '0' {
		last--
	}
	// The value is ±D × 10^k with D = d[first..last], no leading or
	// trailing zeros.
	m := last - first + 1
	k := exp - nFrac + (n - 1 - last)
	switch {
	case k >= 0 && m+k <= maxCanonicalExponent+1:
		if neg {
			dst = append(dst, '-')
		}
		for p := first; p <= last; p++ {
			dst = append(dst, digit(p))
		}
		for ; k > 0; k-- {
			dst = append(dst, '0')
		}
		return dst, nil
	case k < 0 && m <= fastFloatDigits && -k <= fastFloatScale && len(tok) <= fastFloatLen:
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return appendSlowNumber(dst, tok)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	}
	return appendSlowNumber(dst, tok)
}

func appendSlowNumber(dst, tok []byte) ([]byte, error) {
	s, err := CanonicalNumber(string(tok))
	if err != nil {
		return dst, err
	}
	return append(dst, s...), nil
}
