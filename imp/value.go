package imp

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/goimp/imprpc/perl"
)

// ToInt returns the integer a Perl argument holds, as IMP peers send
// numbers: an integer (Int, or Uint up to math.MaxInt64), a double with an
// integral value, or a decimal integer string (Storable's network order
// writes integers outside 32 bits as strings, e.g. "4294967296"). A
// *perl.Scalar is looked through. Anything else, undef included, is not
// an integer (false).
func ToInt(v perl.Value) (int64, bool) {
	switch x := v.(type) {
	case perl.Int:
		return int64(x), true
	case perl.Uint:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case perl.Float:
		f := float64(x)
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return int64(f), true
		}
	case perl.Bytes:
		return parseDecimal(x)
	case perl.String:
		return parseDecimal(x)
	case *perl.Scalar:
		if x != nil {
			return ToInt(x.Value)
		}
	}
	return 0, false
}

// parseDecimal parses an optionally signed decimal integer without
// allocating.
func parseDecimal[S ~string | ~[]byte](s S) (int64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	if i == len(s) {
		return 0, false
	}
	var n uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), true // -(1<<63) wraps to math.MinInt64
	case !neg && n <= math.MaxInt64:
		return int64(n), true
	}
	return 0, false
}

// ToText returns the text of a Perl scalar as Perl stringifies it, as Go
// (UTF-8) text: a byte string is read as Latin-1 (one character per
// byte), a UTF-8 string is returned as it is, numbers in Perl's decimal
// form (doubles as "%.15g", "Inf", "NaN"), booleans as "1" and "". A
// *perl.Scalar is looked through. Undef and references have no text
// (false).
func ToText(v perl.Value) (string, bool) {
	switch x := v.(type) {
	case perl.Bytes:
		for _, c := range x {
			if c >= utf8.RuneSelf {
				return perl.Latin1ToUTF8(string(x)), true
			}
		}
		return string(x), true
	case perl.String:
		return string(x), true
	case perl.Int:
		return strconv.FormatInt(int64(x), 10), true
	case perl.Uint:
		return strconv.FormatUint(uint64(x), 10), true
	case perl.Float:
		return perl.FormatFloat(float64(x)), true
	case perl.Bool:
		if x {
			return "1", true
		}
		return "", true
	case perl.VString:
		return ToText(x.Value)
	case *perl.Scalar:
		if x != nil {
			return ToText(x.Value)
		}
	}
	return "", false
}

// QR returns a Perl qr// value, a reference to a Regexp blessed into
// "Regexp", for the regex argument of a pass_pattern result. flags are
// Perl's modifiers ("i", "msix").
func QR(pattern, flags string) perl.Value {
	_, isUTF8 := perl.Str(pattern).(perl.String)
	return perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: pattern, Flags: flags, UTF8: isUTF8}}
}

// isScalar reports whether v is a non-reference scalar (undef included).
func isScalar(v perl.Value) bool {
	switch x := v.(type) {
	case perl.Undef, perl.Bool, perl.Int, perl.Uint, perl.Float, perl.Bytes, perl.String, perl.VString:
		return true
	case *perl.Scalar:
		return x != nil && isScalar(x.Value)
	}
	return false
}

// isText reports whether v is a defined non-reference scalar, which Perl
// uses as text.
func isText(v perl.Value) bool {
	_, ok := ToText(v)
	return ok
}

// octets returns the bytes a Perl data provider sends for a string value:
// a byte string as it is, a UTF-8 string with only characters up to
// U+00FF as Latin-1 bytes (Perl downgrades it), any other UTF-8 string as
// its UTF-8 encoding.
func octets(v perl.Value) ([]byte, bool) {
	switch x := v.(type) {
	case perl.Bytes:
		return x, true
	case perl.String:
		b := make([]byte, 0, len(x))
		for _, r := range string(x) {
			if r > 0xFF { // invalid UTF-8 decodes as U+FFFD
				return []byte(x), true
			}
			b = append(b, byte(r))
		}
		return b, true
	case *perl.Scalar:
		if x != nil {
			return octets(x.Value)
		}
	}
	return nil, false
}
