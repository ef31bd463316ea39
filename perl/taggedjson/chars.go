package taggedjson

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// decodePerlChar decodes the first character of s, held in Perl's internal
// UTF-8: UTF-8 that also encodes the surrogates U+D800..U+DFFF, and code
// points above U+10FFFF in longer sequences. Those have no JSON form and
// give an error, as does a malformed sequence.
func decodePerlChar(s string) (rune, int, error) {
	c, size := utf8.DecodeRuneInString(s)
	if c != utf8.RuneError || size > 1 {
		return c, size, nil
	}
	b0 := s[0]
	var n int // length of the sequence the first byte announces
	switch {
	case b0 >= 0xc2 && b0 <= 0xdf:
		n = 2
	case b0 >= 0xe0 && b0 <= 0xef:
		n = 3
	case b0 >= 0xf0 && b0 <= 0xf7:
		n = 4
	case b0 >= 0xf8 && b0 <= 0xfb:
		n = 5
	case b0 >= 0xfc && b0 <= 0xfd:
		n = 6
	case b0 == 0xfe:
		n = 7
	case b0 == 0xff:
		n = 13
	default:
		return 0, 0, fmt.Errorf("malformed UTF-8 (byte 0x%02x)", b0)
	}
	if len(s) < n {
		return 0, 0, errors.New("malformed UTF-8 (sequence cut short)")
	}
	v := uint64(b0) & (0x7f >> n)
	for i := 1; i < n; i++ {
		if s[i]&0xc0 != 0x80 {
			return 0, 0, fmt.Errorf("malformed UTF-8 (byte 0x%02x after 0x%02x)", s[i], b0)
		}
		if v > 1<<57 { // beyond 64 bits: only the first bits matter here
			v = 1 << 63
			continue
		}
		v = v<<6 | uint64(s[i]&0x3f)
	}
	minimum := [...]uint64{2: 0x80, 3: 0x800, 4: 0x10000, 5: 0x200000, 6: 0x4000000, 7: 0x80000000, 13: 1 << 36}
	if v < minimum[n] {
		return 0, 0, fmt.Errorf("malformed UTF-8 (overlong sequence for U+%04X)", v)
	}
	if v >= 0xd800 && v <= 0xdfff {
		return rune(v), n, nil
	}
	if v > 0x10ffff {
		return 0, 0, fmt.Errorf("code point U+%X is beyond U+10FFFF and has no JSON form", v)
	}
	return 0, 0, fmt.Errorf("malformed UTF-8 (byte 0x%02x)", b0)
}

// appendPerlChar appends c in Perl's internal UTF-8, which unlike
// utf8.AppendRune keeps surrogates.
func appendPerlChar(b []byte, c rune) []byte {
	if c >= 0xd800 && c <= 0xdfff {
		return append(b, 0xe0|byte(c>>12), 0x80|byte(c>>6)&0x3f, 0x80|byte(c)&0x3f)
	}
	return utf8.AppendRune(b, c)
}
