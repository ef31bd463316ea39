// Package perlre compiles Perl regular expressions for Go's regexp
// package, so that they match byte strings as Perl matches a string
// without the UTF-8 flag: one byte is one character (U+0000..U+00FF).
//
// A pattern is accepted only where Go's regexp (RE2) can give it Perl's
// meaning; anything else is an *Error that says why: backreferences,
// lookaround, atomic groups and possessive quantifiers, recursion,
// conditionals, embedded code, backtracking control verbs, \G, \K, \R,
// \X, $ and \Z without /m (which also match before a final newline), and
// a few corners listed in the messages.
//
// The translation makes Perl's semantics explicit instead of relying on
// Go's flags: every character class, ".", and every character under /i
// becomes an explicit set of bytes, computed with Perl's rules (\d, \w,
// \s and the POSIX classes follow ASCII or Unicode rules as Perl's /d,
// /u, /a and /aa say; \h, \v and \p{} always follow Unicode; /i folds
// only ASCII letters under Perl's native rules). Data holding bytes
// above 0x7F is matched as Latin-1 text, so that "." and classes consume
// exactly one byte.
package perlre

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// Regexp is a compiled Perl regular expression. It is safe for
// concurrent use.
type Regexp struct {
	expr    string
	goExpr  string
	uni     bool
	re      *regexp.Regexp // unanchored
	prefix  *regexp.Regexp // anchored at the start
	minimum int
	// first are the bytes a match can start with, when that is known
	// and no assertion looks before the match (then the search can skip
	// to the first of them); nil otherwise.
	first *[256]bool
}

// Error reports a Perl pattern that cannot be compiled: invalid in Perl,
// or with a meaning Go's regexp cannot express.
type Error struct {
	// Expr is the pattern.
	Expr string
	// Offset is the byte offset in Expr of the construct at fault, -1
	// when the whole pattern is.
	Offset int
	// Msg says what is wrong and why.
	Msg string
}

// Error returns "perlre: offset N: msg".
func (e *Error) Error() string {
	if e.Offset < 0 {
		return "perlre: " + e.Msg
	}
	return fmt.Sprintf("perlre: offset %d: %s", e.Offset, e.Msg)
}

// Compile compiles the Perl pattern expr, a byte string as given on a
// command line (bytes above 0x7F are Latin-1 characters, as in Perl).
func Compile(expr string) (*Regexp, error) {
	goExpr, uni, err := translate(expr)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(goExpr)
	if err != nil {
		return nil, &Error{Expr: expr, Offset: -1, Msg: "Go's regexp: " + err.Error()}
	}
	prefix := regexp.MustCompile(`\A(?:` + goExpr + `)`)
	parsed, err := syntax.Parse(goExpr, syntax.Perl)
	if err != nil {
		return nil, &Error{Expr: expr, Offset: -1, Msg: "Go's regexp: " + err.Error()}
	}
	r := &Regexp{expr: expr, goExpr: goExpr, uni: uni, re: re, prefix: prefix, minimum: minWidth(parsed)}
	if set, nullable, ok := firstSet(parsed.Simplify()); ok && !nullable {
		var first [256]bool
		for c := range 256 {
			first[c] = set.has(c)
		}
		r.first = &first
	}
	return r, nil
}

// firstSet returns the characters (all below 0x100 here) a match of re
// can start with, and whether re can match the empty string; ok is false
// when an assertion makes the start depend on what comes before.
func firstSet(re *syntax.Regexp) (set byteSet, nullable, ok bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return set, false, true
	case syntax.OpEmptyMatch:
		return set, true, true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true, true
		}
		if re.Flags&syntax.FoldCase != 0 {
			return set, false, false
		}
		if c := re.Rune[0]; c < 256 {
			set.add(int(c))
		}
		return set, false, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1] && c < 256; c++ {
				set.add(int(c))
			}
		}
		return set, false, true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		set.invert()
		return set, false, true
	case syntax.OpCapture, syntax.OpPlus:
		return firstSet(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		set, _, ok = firstSet(re.Sub[0])
		return set, true, ok
	case syntax.OpRepeat:
		set, nullable, ok = firstSet(re.Sub[0])
		return set, nullable || re.Min == 0, ok
	case syntax.OpConcat:
		nullable = true
		for _, sub := range re.Sub {
			s, n, ok := firstSet(sub)
			if !ok {
				return set, false, false
			}
			set.union(s)
			if !n {
				return set, false, true
			}
		}
		return set, true, true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			s, n, ok := firstSet(sub)
			if !ok {
				return set, false, false
			}
			set.union(s)
			nullable = nullable || n
		}
		return set, nullable, true
	}
	return set, false, false // assertions
}

// String returns the Perl pattern.
func (r *Regexp) String() string { return r.expr }

// GoExpr returns the pattern in Go regexp syntax, as applied to bytes
// read as Latin-1 characters.
func (r *Regexp) GoExpr() string { return r.goExpr }

// UnicodeRules reports whether Perl applies Unicode rules to the whole
// pattern (it uses \p{}, \N{} or a character above 0xFF).
func (r *Regexp) UnicodeRules() bool { return r.uni }

// MatchesEmpty reports whether the pattern matches the empty string, as
// Perl's test "" =~ $rx does.
func (r *Regexp) MatchesEmpty() bool { return r.re.MatchString("") }

// MinLen returns the least number of bytes a match can have: 0 when the
// pattern can match an empty string somewhere (at a word boundary, say),
// even if it does not match the empty string itself.
func (r *Regexp) MinLen() int { return r.minimum }

// FindIndex returns the byte offsets of the leftmost match in b, the one
// Perl's backtracking finds first.
func (r *Regexp) FindIndex(b []byte) (start, end int, ok bool) {
	skip := 0
	if r.first != nil {
		for skip < len(b) && !r.first[b[skip]] {
			skip++
		}
		if skip == len(b) {
			return 0, 0, false
		}
	}
	start, end, ok = r.find(r.re, b[skip:])
	return start + skip, end + skip, ok
}

// MatchPrefix returns the end of the match that starts at the start of b,
// as Perl's $b =~ /\A($rx)/ finds it.
func (r *Regexp) MatchPrefix(b []byte) (end int, ok bool) {
	_, end, ok = r.find(r.prefix, b)
	return end, ok
}

func (r *Regexp) find(re *regexp.Regexp, b []byte) (int, int, bool) {
	wide := 0
	for _, c := range b {
		if c >= utf8.RuneSelf {
			wide++
		}
	}
	if wide == 0 {
		loc := re.FindIndex(b)
		if loc == nil {
			return 0, 0, false
		}
		return loc[0], loc[1], true
	}
	text := make([]byte, 0, len(b)+wide)
	for _, c := range b {
		text = utf8.AppendRune(text, rune(c))
	}
	loc := re.FindIndex(text)
	if loc == nil {
		return 0, 0, false
	}
	return utf8.RuneCount(text[:loc[0]]), utf8.RuneCount(text[:loc[1]]), true
}
