package perlre

import "testing"

// FuzzCompile checks that any pattern either compiles or gives an
// *Error, and that a compiled pattern finds matches inside the data.
func FuzzCompile(f *testing.F) {
	for _, p := range matchPatterns {
		f.Add(p, []byte("caf\xe9 foo\nbar \xdfss"))
	}
	for _, p := range classPatterns {
		f.Add(p, []byte("\x00\x85\xa0 aZ"))
	}
	f.Fuzz(func(t *testing.T, expr string, data []byte) {
		re, err := Compile(expr)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%q: error %T %v", expr, err, err)
			}
			return
		}
		if start, end, ok := re.FindIndex(data); ok && (start < 0 || end < start || end > len(data)) {
			t.Fatalf("%q on %q: match [%d,%d]", expr, data, start, end)
		}
		if end, ok := re.MatchPrefix(data); ok && (end < 0 || end > len(data)) {
			t.Fatalf("%q on %q: prefix match to %d", expr, data, end)
		}
		if re.MatchesEmpty() && re.MinLen() != 0 {
			t.Fatalf("%q matches the empty string but MinLen is %d", expr, re.MinLen())
		}
	})
}
