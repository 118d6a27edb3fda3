package workers

import "strings"

// ackSequence reads the stream sequence and the delivery count from a
// JetStream ack subject without allocating (jetstream.Msg.Metadata builds a
// MsgMetadata and a time per call):
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>
//	$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>[.<token>]
//
// It reports false for anything else; the caller then asks Metadata, which
// names the problem.
func ackSequence(reply string) (stream, delivered uint64, ok bool) {
	rest, found := strings.CutPrefix(reply, "$JS.ACK.")
	if !found {
		return 0, 0, false
	}
	var fields [10]string // the tokens after $JS.ACK., up to 10
	n := 0
	for n < len(fields) {
		tok, tail, more := strings.Cut(rest, ".")
		fields[n] = tok
		n++
		if !more {
			rest = ""
			break
		}
		rest = tail
	}
	if rest != "" {
		return 0, 0, false // more than 12 tokens
	}
	var d, s string
	switch n {
	case 7: // the first form: 9 tokens
		d, s = fields[2], fields[3]
	case 9, 10: // the second form: 11 or 12 tokens
		d, s = fields[4], fields[5]
	default:
		return 0, 0, false
	}
	if delivered, ok = parseDecimal(d); !ok {
		return 0, 0, false
	}
	if stream, ok = parseDecimal(s); !ok {
		return 0, 0, false
	}
	return stream, delivered, true
}

// parseDecimal parses a non-empty run of ASCII digits that fits in a uint64.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
