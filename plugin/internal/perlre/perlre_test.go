package perlre

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goimp/imprpc/plugin/internal/perltest"
)

// subjects are the byte strings every pattern of matchPatterns is
// matched against, in Perl and here.
var subjects = []string{
	"", "a", "abc", "ABC", "aBc", "foo bar", "foo\nbar\n", "\n", "a\n", "x\r\ny",
	"\t \x0b\x0c\r\n\x85\xa0", "caf\xe9 CAF\xc9", "caf\xc3\xa9", "ss \xdf SS", "123 456",
	"a_b-c", "\x00\x01\x7f\x80\xff", "secret password", "aaa", "abab", "k K",
	"\xb5\xb7\xaa\xba", "hello world hello", "{}[]()", "a{2}", "aa{b}", "x{1,", "#",
	"\x08\x1b\x07", "ABCDE", "\xe9\xc9\xe0\xc0\xfe\xde\xff", "a\nb", "foo\n", "\nfoo",
	"tab\there", "a/b.c*d\\e", "*+?", "\x01\x05", "Ab\x00", "a b  c",
}

// matchPatterns are Perl patterns that this package must match exactly
// as Perl does.
var matchPatterns = []string{
	`a`, `abc`, `a|b`, `ab|a`, `a|ab`, `a*b`, `a+?`, `a+`, `(a|ab)(c|bcd)`, `a{2}`,
	`a{1,2}`, `a{,2}b`, `a{ 1 , 2 }`, `a{`, `{`, `x{1,`, `a{b}`, `{}`, `.`, `.+`, `(?s).+`,
	`\N+`, `a.c`, `[a-c]+`, `[^a-c]+`, `[]a]`, `[^]a]+`, `[a-]`, `[-a]`, `[\d-z]+`,
	`[a\-z]+`, `\d+`, `\D+`, `\w+`, `\W+`, `\s+`, `\S+`, `\h+`, `\H+`, `\v+`, `\V+`,
	`[[:alpha:]]+`, `[[:^alpha:]]+`, `[[:punct:]]+`, `[[:space:]]+`, `[[:word:]]+`,
	`(?u)\w+`, `(?u)\s+`, `(?a)\w+`, `(?u)[[:alpha:]]+`, `\p{L}+`, `\P{L}+`, `\pL+`,
	`\p{^L}+`, `\p{Latin}+`, `\p{IsAlpha}+`, `\p{Lu}`, `(?i)\p{Lu}+`, `(?i)\p{Ll}+`,
	`(?i)\P{Ll}+`, `\w+\p{L}`, `\x{100}|\w+`, `\N{U+E9}`, `(?i)\N{U+E9}`, `(?i)\x{e9}`,
	"(?i)\xe9", "(?iu)\xe9", "(?ia)\xe9", `(?i)abc`, `(?i)[a-c]+`, `(?i)[^a-c]+`,
	`(?i:a)b`, `a(?i)b|c`, `(?i)k`, `(?i)\x{212a}`, `(?iaa)\x{212a}`,
	`(?i)[\x{2000}-\x{3000}]`, `(?i)\x{178}`, "(?x) a b # comment\n c", `(?x)a\ b`,
	`(?x)[ a]+`, `(?xx)[ a]+`, `(?#comment)a`, `\t\n\r\f\e\a`, `\x41\x{42}\103\o{104}\cE`,
	`\x61\x62`, `\0`, `\10`, `\x07`, `[\101-\103]+`, `[\b]`, `\bfoo\b`, `\Bo\B`,
	`\Aabc`, `abc\z`, `(?m)^foo`, `(?m)bar$`, `(?m)$\n`, `^a`, `^.`, `(?s)a.b`, `(?^i:A)`,
	`(?i)(?^:A)`, `(?<n>a)b`, `(?'n'a)b`, `(?P<n>a)b`, `(?|a|b)`, `(?:ab)+`, `(a)(b)`,
	`\.\*\\`, `\/`, `#`, `[\x00-\x1f]+`, `[\x80-\xff]+`, `\xff`, "[\xc3\xa9]+",
	"\xc3\xa9", `caf.`, `caf..`, "(?i)CAF\xc9", `(?i)caf\x{c9}`, `(?u)(?i)caf\x{c9}`,
	`\x{e9}\w`, `\N{U+41}\w+`, `a\x`, `\x{ 41 }`, `[[:upper:]][[:lower:]]+`,
	`(?i)[[:upper:]]+`, `(?a)[[:^ascii:]]+`, `a{0}b`, `(?:)a`, `()a`, `a||b`, `(?n)(a)b`,
	`(?-i:a)`, `(?i-s:.)`, `\c?`, `\cz`, `(?p)a`, `[[:digit:][:alpha:]]+`, `[.]`,
	`\p{gc=Lu}+`, `\p{Script=Latin}+`, `\p{Common}+`, `\p{XPosixPunct}+`, `\p{PosixPunct}+`,
	`\p{Punct}+`, `\p{Any}`, `[\p{Lu}\d]+`, `[^\p{L}\s]+`, `\P{XPosixSpace}+`,
	`(?i)ß`, "(?i)\xdf", `(?aai)ss`, `(?i)s s`, `(?ix)s s`, `(?i)st`, `(?i)s+s`,
	`(?m)^`, `(?m)\n^`, `b$`, `a{2,1}`, `xa{2,1}|b`,
}

// classPatterns are matched against each of the 256 single bytes, to
// compare every member of the sets they define.
var classPatterns = []string{
	`\w`, `\d`, `\s`, `\h`, `\v`, `\W`, `\S`, `\H`, `\V`, `.`, `(?s).`, `\N`,
	`(?u)\w`, `(?u)\s`, `(?u)\d`, `(?a)\w`, `(?a)\s`, `\x{100}|\w`, `\x{100}|\s`,
	`(?i)[a-z]`, "(?i)\xe9", "(?iu)[\xe0-\xfe]", "(?i)[\xe0-\xfe]", "(?ia)[\xe0-\xfe]",
	`(?i)\p{Lu}`, `[^\w]`, `[\W\d]`, `(?i)[[:upper:]]`, `(?u)[[:upper:]]`,
	`(?iu)[[:lower:]]`, `(?i)[^[:lower:]]`, `(?i)\xff`, `(?i)[\x{178}]`, `(?i)\x{3bc}`,
	`(?i)[\x{100}-\x{3000}]`, `(?iaa)[\x{100}-\x{3000}]`, `[^\x{100}]`, `(?i)[^k]`,
	`(?i)[^\x{e9}]`, `(?iu)[^\x{e9}]`,
}

func init() {
	for _, name := range []string{"alpha", "alnum", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit"} {
		classPatterns = append(classPatterns, "[[:"+name+":]]", "(?u)[[:"+name+":]]", "[[:^"+name+":]]")
		if name != "ascii" {
			classPatterns = append(classPatterns, `\p{Posix`+name+`}`, `\p{XPosix`+name+`}`, `(?i)\p{XPosix`+name+`}`, `(?i)\p{Posix`+name+`}`)
		}
	}
	for _, name := range []string{
		"L", "LC", "L&", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "N", "Nd", "Nl", "No",
		"P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
		"Z", "Zs", "C", "Cc", "Cf", "Co", "Cn", "Letter", "Uppercase_Letter",
		"Decimal Number", "Other-Punctuation", "Currency_Symbol", "Space_Separator", "Control",
		"Alpha", "Alphabetic", "Alnum", "ASCII", "Any", "Assigned", "Blank", "Cntrl",
		"Digit", "Graph", "Lower", "Lowercase", "Print", "Punct", "Space", "White_Space",
		"SpacePerl", "XPerlSpace", "Upper", "Uppercase", "Title", "Titlecase", "Word",
		"XDigit", "Hex_Digit", "AHex", "Cased", "HorizSpace", "VertSpace",
		"Latin", "Greek", "Common", "Inherited", "IsLatin", "IsAlpha", "Is_Lu",
		"gc=L", "gc: Lu", "General_Category=Punctuation", "sc=Latin", "Script=Common",
	} {
		classPatterns = append(classPatterns, `\p{`+name+`}`, `\P{`+name+`}`, `(?i)\p{`+name+`}`)
	}
}

type matchQuery struct {
	RxHex string   `json:"rx_hex"`
	SHex  []string `json:"s_hex"`
}

func hexAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = hex.EncodeToString([]byte(s))
	}
	return out
}

// TestMatchLikePerl matches every pattern of matchPatterns against every
// subject in Perl and with Compile, and requires the same matches (start
// and end of the leftmost match, and of the match anchored at the start)
// and the same answer to whether the empty string matches.
func TestMatchLikePerl(t *testing.T) {
	perl := askPerlRaw(t, matchPatterns, subjects)
	for i, p := range matchPatterns {
		re, err := Compile(p)
		if perl[i].Error != "" {
			if err == nil {
				t.Errorf("%q: Perl refuses it (%s), Compile accepts it", p, perl[i].Error)
			}
			continue
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%q: error %v is not an *Error", p, err)
			}
			if !knownRefusal(p) {
				t.Errorf("%q: Perl accepts it, Compile says %v", p, err)
			}
			continue
		}
		if knownRefusal(p) {
			t.Errorf("%q: expected a refusal, Compile accepts it as %s", p, re.GoExpr())
		}
		if got, want := re.MatchesEmpty(), perl[i].Empty == 1; got != want {
			t.Errorf("%q: MatchesEmpty = %v, Perl %v", p, got, want)
		}
		for k, s := range subjects {
			start, end, ok := re.FindIndex([]byte(s))
			if got, want := span(start, end, ok), perl[i].Find[k]; got != want {
				t.Errorf("%q =~ %q: FindIndex %s, Perl %s (Go: %s)", s, p, got, want, re.GoExpr())
			}
			pend, pok := re.MatchPrefix([]byte(s))
			if got, want := span(0, pend, pok), perl[i].Prefix[k]; got != want {
				t.Errorf("%q =~ /\\A(%s)/: MatchPrefix %s, Perl %s (Go: %s)", s, p, got, want, re.GoExpr())
			}
		}
	}
}

// knownRefusal lists the patterns of matchPatterns that Perl accepts and
// Compile refuses on purpose (see TestRefusals for why).
func knownRefusal(p string) bool {
	switch p {
	case `(?m)^`, `(?m)\n^`, `b$`:
		return true
	}
	return false
}

func span(start, end int, ok bool) string {
	if !ok {
		return "no match"
	}
	return fmt.Sprintf("[%d,%d]", start, end)
}

type rawAnswer struct {
	Error  string
	Empty  int
	Find   []string
	Prefix []string
}

// askPerlRaw is askPerl with the matches as text ("[s,e]" or "no
// match"), so that a missing match cannot look like [0,0].
func askPerlRaw(t *testing.T, patterns, subjects []string) []rawAnswer {
	t.Helper()
	type answer struct {
		Error  string    `json:"error"`
		Empty  int       `json:"empty"`
		Find   []*[2]int `json:"find"`
		Prefix []*int    `json:"prefix"`
	}
	env := perltest.PerlEnv(t)
	hs := hexAll(subjects)
	q := make([]matchQuery, len(patterns))
	for i, p := range patterns {
		q[i] = matchQuery{RxHex: hex.EncodeToString([]byte(p)), SHex: hs}
	}
	answers := perltest.Ask[matchQuery, answer](t, env, filepath.Join("testdata", "match.pl"), q)
	out := make([]rawAnswer, len(answers))
	for i, a := range answers {
		out[i] = rawAnswer{Error: a.Error, Empty: a.Empty}
		for _, f := range a.Find {
			if f == nil {
				out[i].Find = append(out[i].Find, span(0, 0, false))
			} else {
				out[i].Find = append(out[i].Find, span(f[0], f[1], true))
			}
		}
		for _, p := range a.Prefix {
			if p == nil {
				out[i].Prefix = append(out[i].Prefix, span(0, 0, false))
			} else {
				out[i].Prefix = append(out[i].Prefix, span(0, *p, true))
			}
		}
	}
	return out
}

// TestClassesLikePerl compares, for each class-like pattern, the set of
// single bytes it matches with the set Perl's pattern matches.
func TestClassesLikePerl(t *testing.T) {
	var bytes []string
	for c := range 256 {
		bytes = append(bytes, string([]byte{byte(c)}))
	}
	perl := askPerlRaw(t, classPatterns, bytes)
	for i, p := range classPatterns {
		if perl[i].Error != "" {
			t.Errorf("%q: Perl refuses it: %s", p, perl[i].Error)
			continue
		}
		re, err := Compile(p)
		if err != nil {
			t.Errorf("%q: %v", p, err)
			continue
		}
		var diff []string
		for c := range 256 {
			_, _, ok := re.FindIndex([]byte{byte(c)})
			if want := perl[i].Find[c] != "no match"; ok != want {
				diff = append(diff, fmt.Sprintf("%02x:%v", c, want))
			}
		}
		if len(diff) > 0 {
			t.Errorf("%q: bytes where Perl differs (byte:Perl's answer): %s (Go: %s)", p, strings.Join(diff, " "), re.GoExpr())
		}
	}
}

// TestRefusals checks that patterns Perl accepts but Go's regexp cannot
// give Perl's meaning are refused with a message that says why, and that
// patterns Perl itself refuses are refused too.
func TestRefusals(t *testing.T) {
	cases := []struct {
		rx, why string
	}{
		{`(a)\1`, "backreference"},
		{`(?<n>a)\k<n>`, "backreference"},
		{`(?P<n>a)(?P=n)`, "backreference"},
		{`(a)\g1`, "backreference"},
		{`(?=a)`, "lookaround"},
		{`(?!a)b`, "lookaround"},
		{`(?<=a)b`, "lookaround"},
		{`(?<!a)b`, "lookaround"},
		{`(*pla:a)`, "lookaround"},
		{`(?>a+)`, "atomic"},
		{`(*atomic:a)`, "atomic"},
		{`a++`, "possessive"},
		{`a*+`, "possessive"},
		{`a{1,2}+`, "possessive"},
		{`(?R)`, "recursion"},
		{`(a(?1))`, "recursion"},
		{`(?<n>a)(?&n)`, "recursion"},
		{`(?(1)a|b)`, "conditional"},
		{`(*FAIL)`, "verbs"},
		{`a(*SKIP)b`, "verbs"},
		{`\Ga`, `\G`},
		{`a\Kb`, `\K`},
		{`\R`, "atomic"},
		{`\X`, `\X`},
		{`a$`, "before a newline at the end"},
		{`a\Z`, "before a newline at the end"},
		{`(?m)a^`, "followed by something"},
		{`(?m)^\n?`, "followed by something"},
		{`\N{LATIN SMALL LETTER A}`, "named characters"},
		{`(?l)a`, "locale"},
		{`\b{wb}`, "Unicode boundaries"},
		{`\p{L}\b`, "Unicode rules"},
		{`(?u)\bx`, "Unicode rules"},
		{`(?iu)ss`, "multi-character fold"},
		{`(?ia)Ss`, "multi-character fold"},
		{`(?iu)\x{df}`, "multi-character fold"},
		{`(?iu)[\x{df}]`, "multi-character fold"},
		{`\p{InBasicLatin}`, "blocks"},
		{`a{1,1001}`, "above 1000"},
		{`a\Qb`, "interpolation"},
		{`a\y`, "unrecognized escape"},
		{`(?[ \w ])`, "extended character classes"},
	}
	var rxs []string
	for _, c := range cases {
		rxs = append(rxs, c.rx)
	}
	perl := askPerlRaw(t, rxs, nil)
	for i, c := range cases {
		if perl[i].Error != "" {
			t.Errorf("%q: Perl refuses it too (%s): not a refusal of ours", c.rx, perl[i].Error)
		}
		_, err := Compile(c.rx)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: Compile error %v, want an *Error", c.rx, err)
			continue
		}
		if !strings.Contains(e.Msg, c.why) {
			t.Errorf("%q: error %q does not say %q", c.rx, e.Msg, c.why)
		}
	}

	invalid := []string{`a**`, `a{2}{3}`, `[z-a]`, `(`, `)`, `a)`, `[a`, `[[:foo:]]`, `*a`, `\`, `(?`, `(?<>a)`, `[[=a=]]`,
		`(?{ 1 })`, `(??{ 1 })`, `\p{Foo}`, `a\g1`}
	perl = askPerlRaw(t, invalid, nil)
	for i, rx := range invalid {
		if perl[i].Error == "" {
			t.Errorf("%q: Perl accepts it; the test expects a pattern Perl refuses", rx)
		}
		if _, err := Compile(rx); err == nil {
			t.Errorf("%q: Perl refuses it (%s), Compile accepts it", rx, perl[i].Error)
		}
	}
}

func TestMinLen(t *testing.T) {
	for rx, want := range map[string]int{
		`a`: 1, `abc`: 3, `a?b`: 1, `\b|x`: 0, `a*`: 0, `(?:ab){2,3}`: 4, `a|bc`: 1,
		`\Aab\z`: 2, `[^\x{0}-\x{ff}]|ab`: 2, `(?m)^a`: 1, `\d{3}`: 3,
	} {
		re, err := Compile(rx)
		if err != nil {
			t.Errorf("%q: %v", rx, err)
			continue
		}
		if got := re.MinLen(); got != want {
			t.Errorf("%q: MinLen %d, want %d", rx, got, want)
		}
	}
}
