package perlre

import (
	"regexp/syntax"
	"strconv"
	"strings"
)

// flags are the regex modifiers in effect.
type flags struct {
	i, m, s, x, xx bool
	// charset is Perl's character set modifier: 'd' (the default), 'u',
	// 'a', or 'A' for /aa.
	charset byte
}

// translator turns Perl regex syntax into Go regexp syntax over Latin-1
// characters. It works in two passes when needed: Perl applies Unicode
// rules to the whole pattern if anything in it needs Unicode (\p{},
// \N{}, a character above 0xFF), which is known only at the end.
type translator struct {
	src     string
	pos     int
	unicode bool // Unicode rules for /d (second pass)
	needUni bool // something in the pattern makes Perl use Unicode rules
	groups  int  // capture groups in the pattern, for \NN
}

// item is one element of a sequence: an atom with its quantifier.
type item struct {
	frag       string
	offset     int
	caretM     bool // ^ under /m, see parseSeq
	foldsToSS  bool // an s that /i may fold together with a neighbour into ß
	quantified bool
}

func (t *translator) errorf(offset int, msg string) error {
	return &Error{Expr: t.src, Offset: offset, Msg: msg}
}

// translate returns the Go regexp syntax for the Perl pattern src.
func translate(src string) (expr string, unicodeRules bool, err error) {
	t := &translator{src: src, groups: countGroups(src)}
	expr, err = t.run()
	if t.needUni {
		t2 := &translator{src: src, groups: t.groups, unicode: true}
		expr, err = t2.run()
		return expr, true, err
	}
	return expr, false, err
}

func (t *translator) run() (string, error) {
	f := flags{charset: 'd'}
	expr, err := t.parseAlt(&f)
	if err != nil {
		return "", err
	}
	if t.pos < len(t.src) { // only a ')' stops parseAlt early
		return "", t.errorf(t.pos, "unmatched )")
	}
	return expr, nil
}

// countGroups counts the capturing groups of src, roughly as Perl does
// to decide whether \NN is a backreference or an octal escape.
func countGroups(src string) int {
	n := 0
	inClass := false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
			if i+1 < len(src) && src[i+1] == ']' {
				i++
			}
		case c == '(' && (i+1 >= len(src) || src[i+1] != '?' && src[i+1] != '*'):
			n++
		case c == '(' && i+2 < len(src) && src[i+1] == '?' && (src[i+2] == '<' || src[i+2] == '\'' || src[i+2] == 'P'):
			if i+3 < len(src) && src[i+3] != '=' && src[i+3] != '!' && src[i+3] != '>' {
				n++
			}
		}
	}
	return n
}

func (t *translator) more() bool { return t.pos < len(t.src) }
func (t *translator) peek() byte { return t.src[t.pos] }
func (t *translator) peekAt(i int) (byte, bool) {
	if t.pos+i < len(t.src) {
		return t.src[t.pos+i], true
	}
	return 0, false
}

// unicodeRules reports whether \w, \s, \b and the POSIX classes follow
// Unicode for f.
func (t *translator) unicodeRules(f *flags) bool {
	return f.charset == 'u' || f.charset == 'd' && t.unicode
}

func (t *translator) foldMode(f *flags) foldMode {
	switch {
	case !f.i:
		return foldNone
	case f.charset == 'A':
		return foldNoMix
	case f.charset == 'a' || t.unicodeRules(f):
		return foldLatin1
	}
	return foldASCII
}

// skipSpace skips white space and comments under /x.
func (t *translator) skipSpace(f *flags) {
	for f.x && t.more() {
		switch c := t.peek(); {
		case c == ' ' || c >= '\t' && c <= '\r':
			t.pos++
		case c == '#':
			for t.more() && t.peek() != '\n' {
				t.pos++
			}
		default:
			return
		}
	}
}

// parseAlt parses alternatives up to the end or a ')'. Modifiers set
// with (?i) inside change *f, so they last to the end of the group.
func (t *translator) parseAlt(f *flags) (string, error) {
	var alts []string
	for {
		seq, err := t.parseSeq(f)
		if err != nil {
			return "", err
		}
		alts = append(alts, seq)
		if t.more() && t.peek() == '|' {
			t.pos++
			continue
		}
		return strings.Join(alts, "|"), nil
	}
}

func (t *translator) parseSeq(f *flags) (string, error) {
	var items []item
	for {
		t.skipSpace(f)
		if !t.more() || t.peek() == '|' || t.peek() == ')' {
			break
		}
		start := t.pos
		it, ok, err := t.parseAtom(f)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		it.offset = start
		t.skipSpace(f)
		q, hasQ, err := t.parseQuant()
		if err != nil {
			return "", err
		}
		if hasQ {
			it.frag = "(?:" + it.frag + ")" + q
			if strings.HasPrefix(q, neverQuant) {
				it.frag = noMatch
			}
			it.quantified = true
			t.skipSpace(f)
			if at := t.pos; t.more() {
				if _, again, _ := t.parseQuant(); again || strings.IndexByte("*+?", t.src[at]) >= 0 {
					return "", t.errorf(at, "nested quantifiers")
				}
			}
		}
		items = append(items, it)
	}
	var b strings.Builder
	for k, it := range items {
		if it.caretM && minWidthOf(items[k+1:]) == 0 {
			return "", t.errorf(it.offset, "under /m, ^ must be followed by something that matches a character: Perl's ^ does not match after a newline at the very end, Go's does")
		}
		if k > 0 && it.foldsToSS && items[k-1].foldsToSS && !it.quantified && !items[k-1].quantified {
			return "", t.errorf(items[k-1].offset, `"ss" under /i with Unicode rules also matches ß in Perl (a multi-character fold), which Go's regexp cannot express`)
		}
		b.WriteString(it.frag)
	}
	return b.String(), nil
}

// minWidthOf returns the least number of characters the items match.
func minWidthOf(items []item) int {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.frag)
	}
	re, err := syntax.Parse(b.String(), syntax.Perl)
	if err != nil {
		return 0
	}
	return minWidth(re)
}

// minWidth returns the least number of characters re can match, at most
// maxWidth; assertions match none.
func minWidth(re *syntax.Regexp) int {
	const maxWidth = 1 << 20
	switch re.Op {
	case syntax.OpLiteral:
		return min(len(re.Rune), maxWidth)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return maxWidth // an empty class never matches
		}
		return 1
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpNoMatch:
		return maxWidth
	case syntax.OpCapture, syntax.OpPlus:
		return minWidth(re.Sub[0])
	case syntax.OpRepeat:
		return min(re.Min*minWidth(re.Sub[0]), maxWidth)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+minWidth(s), maxWidth)
		}
		return n
	case syntax.OpAlternate:
		n := maxWidth
		for _, s := range re.Sub {
			n = min(n, minWidth(s))
		}
		return n
	}
	return 0 // star, quest, empty match, assertions
}

// neverQuant stands for a quantifier {n,m} with n > m, which Perl
// accepts with a warning and which never matches.
const neverQuant = "{never}"

// parseQuant parses a quantifier, if one is next, and returns it in Go
// syntax.
func (t *translator) parseQuant() (string, bool, error) {
	if !t.more() {
		return "", false, nil
	}
	start := t.pos
	var q string
	switch t.peek() {
	case '*', '+', '?':
		q = t.src[t.pos : t.pos+1]
		t.pos++
	case '{':
		lo, hi, end, ok := parseBraces(t.src, t.pos)
		if !ok {
			return "", false, nil
		}
		switch {
		case lo > 1000 || hi > 1000:
			return "", false, t.errorf(start, "repeat count above 1000, Go's limit (Perl allows up to 65534)")
		case hi >= 0 && lo > hi: // Perl warns that it cannot match
			q = neverQuant
		case hi == lo:
			q = "{" + strconv.Itoa(lo) + "}"
		case hi < 0:
			q = "{" + strconv.Itoa(lo) + ",}"
		default:
			q = "{" + strconv.Itoa(lo) + "," + strconv.Itoa(hi) + "}"
		}
		t.pos = end
	default:
		return "", false, nil
	}
	if t.more() {
		switch t.peek() {
		case '?':
			q += "?"
			t.pos++
		case '+':
			return "", false, t.errorf(start, "possessive quantifiers are not supported: Go's regexp has no atomic matching")
		}
	}
	return q, true, nil
}

// parseBraces parses a {n}, {n,}, {n,m} or {,m} quantifier at src[i],
// with blanks allowed inside as in Perl 5.34 and later. hi is -1 for no
// upper bound. ok is false when the brace is a literal one.
func parseBraces(src string, i int) (lo, hi, end int, ok bool) {
	j := i + 1
	blanks := func() {
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
	}
	number := func() (int, bool) {
		k := j
		n := 0
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			n = min(n*10+int(src[j]-'0'), 1<<20)
			j++
		}
		return n, j > k
	}
	blanks()
	lo, haveLo := number()
	blanks()
	hi, haveHi := lo, haveLo
	if j < len(src) && src[j] == ',' {
		j++
		blanks()
		hi, haveHi = number()
		blanks()
		if !haveHi {
			hi = -1
		}
	}
	if j >= len(src) || src[j] != '}' || !haveLo && !haveHi {
		return 0, 0, 0, false
	}
	return lo, hi, j + 1, true
}

// setItem makes an item of a set of bytes.
func setItem(s byteSet) item { return item{frag: s.emit()} }

// charItem makes an item of one character, folded under /i.
func (t *translator) charItem(f *flags, c rune, offset int) (item, error) {
	fm := t.foldMode(f)
	if fm == foldLatin1 && (c == 0xDF || c == 0x1E9E) {
		return item{}, t.errorf(offset, "ß under /i with Unicode rules also matches \"ss\" in Perl (a multi-character fold), which Go's regexp cannot express")
	}
	s := runeRanges{{c, c}}.bytes(fm)
	return item{frag: s.emit(), foldsToSS: fm == foldLatin1 && (c == 's' || c == 'S' || c == 0x17F)}, nil
}

func (t *translator) parseAtom(f *flags) (item, bool, error) {
	start := t.pos
	c := t.peek()
	switch c {
	case '(':
		return t.parseGroup(f)
	case '[':
		s, err := t.parseClass(f)
		return setItem(s), true, err
	case '.':
		t.pos++
		if f.s {
			return setItem(setAll), true, nil
		}
		return setItem(setNotNL), true, nil
	case '^':
		t.pos++
		if f.m {
			return item{frag: `(?m:^)`, caretM: true}, true, nil
		}
		return item{frag: `\A`}, true, nil
	case '$':
		t.pos++
		if f.m {
			return item{frag: `(?m:$)`}, true, nil
		}
		return item{}, false, t.errorf(start, `$ without /m also matches before a newline at the end, which Go's regexp cannot express: use \z for the end, or (?m)$`)
	case '\\':
		it, err := t.parseEscape(f)
		return it, true, err
	case '*', '+', '?':
		return item{}, false, t.errorf(start, "quantifier follows nothing")
	}
	t.pos++
	it, err := t.charItem(f, rune(c), start)
	return it, true, err
}

// parseGroup parses a group starting at '(', or a construct written like
// one: comments, modifiers, and the extensions Go's regexp lacks.
func (t *translator) parseGroup(f *flags) (item, bool, error) {
	start := t.pos
	t.pos++
	next := func(s string) bool { return strings.HasPrefix(t.src[t.pos:], s) }
	switch {
	case next("*"):
		return item{}, false, t.verbError(start)
	case next("?#"):
		end := strings.IndexByte(t.src[t.pos:], ')')
		if end < 0 {
			return item{}, false, t.errorf(start, "unterminated (?#...) comment")
		}
		t.pos += end + 1
		return item{}, false, nil
	case next("?:"), next("?|"): // (?|...) only renumbers captures
		t.pos += 2
		return t.groupBody(*f, start)
	case next("?<="), next("?<!"), next("?="), next("?!"):
		return item{}, false, t.errorf(start, "lookaround assertions are not supported: Go's regexp has none")
	case next("?>"):
		return item{}, false, t.errorf(start, "atomic groups (?>...) are not supported: Go's regexp has no atomic matching")
	case next("?<"), next("?'"), next("?P<"):
		t.pos += 2
		if t.src[t.pos-1] == 'P' {
			t.pos++
		}
		close := byte('>')
		if t.src[t.pos-1] == '\'' {
			close = '\''
		}
		end := strings.IndexByte(t.src[t.pos:], close)
		if end <= 0 || !isName(t.src[t.pos:t.pos+end]) {
			return item{}, false, t.errorf(start, "bad group name")
		}
		t.pos += end + 1
		return t.groupBody(*f, start)
	case next("?P="), next("?P>"), next("?&"), next("?R"), next("?+"),
		next("?-") && len(t.src) > t.pos+2 && t.src[t.pos+2] >= '0' && t.src[t.pos+2] <= '9',
		next("?") && len(t.src) > t.pos+1 && t.src[t.pos+1] >= '0' && t.src[t.pos+1] <= '9':
		return item{}, false, t.errorf(start, "backreferences and recursion are not supported: Go's regexp has neither")
	case next("?{"), next("??{"):
		return item{}, false, t.errorf(start, "embedded code is not supported")
	case next("?("):
		return item{}, false, t.errorf(start, "conditional groups (?(...)...) are not supported")
	case next("?["):
		return item{}, false, t.errorf(start, "extended character classes (?[...]) are not supported")
	case next("?"):
		t.pos++
		return t.modifiers(f, start)
	}
	return t.groupBody(*f, start)
}

// groupBody parses the inside of a group with its own copy of the flags.
func (t *translator) groupBody(f flags, start int) (item, bool, error) {
	body, err := t.parseAlt(&f)
	if err != nil {
		return item{}, false, err
	}
	if !t.more() {
		return item{}, false, t.errorf(start, "missing )")
	}
	t.pos++
	return item{frag: "(?:" + body + ")"}, true, nil
}

func (t *translator) verbError(start int) error {
	rest := t.src[t.pos:]
	for _, p := range []string{"*pla:", "*plb:", "*nla:", "*nlb:", "*positive_look", "*negative_look"} {
		if strings.HasPrefix(rest, p) {
			return t.errorf(start, "lookaround assertions are not supported: Go's regexp has none")
		}
	}
	switch {
	case strings.HasPrefix(rest, "*atomic:"):
		return t.errorf(start, "atomic groups are not supported: Go's regexp has no atomic matching")
	case strings.HasPrefix(rest, "*{"):
		return t.errorf(start, "embedded code is not supported")
	case strings.HasPrefix(rest, "*sr:"), strings.HasPrefix(rest, "*asr:"), strings.HasPrefix(rest, "*script_run:"), strings.HasPrefix(rest, "*atomic_script_run:"):
		return t.errorf(start, "script runs are not supported")
	}
	return t.errorf(start, "backtracking control verbs (*VERB) are not supported: Go's regexp does not backtrack")
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// modifiers parses (?flags) and (?flags:...) after the "(?".
func (t *translator) modifiers(f *flags, start int) (item, bool, error) {
	nf := *f
	on := true
	if t.more() && t.peek() == '^' {
		t.pos++
		nf = flags{charset: 'd'}
	}
	charsets := 0
	for t.more() {
		c := t.peek()
		t.pos++
		switch c {
		case 'i', 'm', 's', 'n', 'x', 'p', 'o', 'g', 'c':
			switch c {
			case 'i':
				nf.i = on
			case 'm':
				nf.m = on
			case 's':
				nf.s = on
			case 'x':
				if on && nf.x && t.src[t.pos-2] == 'x' {
					nf.xx = true
				}
				nf.x = on
				if !on {
					nf.xx = false
				}
			}
			// n only stops capturing, p, o, g and c do nothing here.
		case 'a', 'u', 'd':
			if !on {
				return item{}, false, t.errorf(t.pos-1, "the character set modifier "+string(c)+" cannot be turned off")
			}
			charsets++
			switch {
			case c == 'a' && nf.charset == 'a' && t.src[t.pos-2] == 'a':
				nf.charset = 'A'
				charsets--
			default:
				nf.charset = c
			}
			if charsets > 1 {
				return item{}, false, t.errorf(t.pos-1, "only one character set modifier is allowed")
			}
		case 'l':
			return item{}, false, t.errorf(t.pos-1, "the locale modifier l is not supported: its meaning depends on the server's locale")
		case '-':
			if !on || t.src[t.pos-2] == '^' {
				return item{}, false, t.errorf(t.pos-1, "bad modifier sequence")
			}
			on = false
		case ':':
			return t.groupBody(nf, start)
		case ')':
			*f = nf
			return item{}, false, nil
		default:
			return item{}, false, t.errorf(t.pos-1, "unknown group syntax or modifier "+strconv.QuoteRune(rune(c)))
		}
	}
	return item{}, false, t.errorf(start, "missing )")
}

// escapeClasses are the sets of \d, \w, \s, \h and \v by letter, under
// ASCII rules and under Unicode rules.
var escapeClasses = map[byte][2]byteSet{
	'd': {setDigit, setDigit},
	'w': {setWordA, setWordU},
	's': {setSpaceA, setSpaceU},
	'h': {setHoriz, setHoriz},
	'v': {setVert, setVert},
}

// parseEscape parses a backslash sequence outside a class.
func (t *translator) parseEscape(f *flags) (item, error) {
	start := t.pos
	t.pos++
	if !t.more() {
		return item{}, t.errorf(start, "pattern ends with a backslash")
	}
	c := t.peek()
	t.pos++
	switch c {
	case 'A':
		return item{frag: `\A`}, nil
	case 'z':
		return item{frag: `\z`}, nil
	case 'Z':
		return item{}, t.errorf(start, `\Z also matches before a newline at the end, which Go's regexp cannot express: use \z`)
	case 'G':
		return item{}, t.errorf(start, `\G is not supported: the pattern is matched against a fresh buffer each time`)
	case 'b', 'B':
		if t.more() && t.peek() == '{' {
			return item{}, t.errorf(start, `Unicode boundaries \b{...} are not supported`)
		}
		if t.unicodeRules(f) {
			return item{}, t.errorf(start, `\b and \B under Unicode rules count Latin-1 letters as word characters, Go's do not: use (?a) or avoid what makes the pattern need Unicode`)
		}
		return item{frag: `\` + string(c)}, nil
	case 'K':
		return item{}, t.errorf(start, `\K is not supported`)
	case 'R':
		return item{}, t.errorf(start, `\R is not supported: it is an atomic group, which Go's regexp lacks (use (?:\r\n|[\n\x0b\f\r\x85]) if you mean it without backtracking rules)`)
	case 'X':
		return item{}, t.errorf(start, `\X (extended grapheme cluster) is not supported`)
	case 'C':
		return item{}, t.errorf(start, `\C is not supported`)
	case 'k', 'g':
		return item{}, t.errorf(start, "backreferences and recursion are not supported: Go's regexp has neither")
	case 'Q', 'E', 'U', 'L', 'u', 'l', 'F':
		return item{}, t.errorf(start, `\`+string(c)+` is string interpolation, not regex syntax: in a pattern given as a string Perl matches the letter itself (with a warning); quote metacharacters with a backslash instead`)
	case 'N':
		if !t.more() || t.peek() != '{' {
			return setItem(setNotNL), nil
		}
	}
	t.pos = start
	s, isChar, ch, err := t.classEscape(f, false)
	if err != nil {
		return item{}, err
	}
	if isChar {
		return t.charItem(f, ch, start)
	}
	return setItem(s), nil
}

// classEscape parses a backslash sequence that stands for a character or
// a set: everything allowed both inside and outside a class. inClass
// selects the class meaning of \b (backspace) and of \1...
func (t *translator) classEscape(f *flags, inClass bool) (set byteSet, isChar bool, ch rune, err error) {
	start := t.pos
	t.pos++
	if !t.more() {
		return set, false, 0, t.errorf(start, "pattern ends with a backslash")
	}
	c := t.peek()
	t.pos++
	if sets, ok := escapeClasses[c|0x20]; ok { // \d \D \w \W \s \S \h \H \v \V
		s := sets[0]
		if t.unicodeRules(f) {
			s = sets[1]
		}
		if c&0x20 == 0 { // the capital letter: the complement
			s.invert()
		}
		return s, false, 0, nil
	}
	switch c {
	case 'p', 'P':
		s, err := t.parseProperty(f, c == 'P', start)
		return s, false, 0, err
	case 'N':
		r, err := t.namedChar(start)
		return set, true, r, err
	case 'x':
		r, err := t.hexChar(start)
		return set, true, r, err
	case 'o':
		if !t.more() || t.peek() != '{' {
			return set, false, 0, t.errorf(start, `\o needs braces: \o{...}`)
		}
		r, err := t.bracedNumber(start, 8)
		return set, true, r, err
	case 'c':
		if !t.more() || t.peek() >= 0x80 || t.peek() < 0x20 || t.peek() == '{' {
			return set, false, 0, t.errorf(start, `\c must be followed by a printable ASCII character`)
		}
		x := t.peek()
		t.pos++
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		return set, true, rune(x ^ 64), nil
	case 't':
		return set, true, '\t', nil
	case 'n':
		return set, true, '\n', nil
	case 'r':
		return set, true, '\r', nil
	case 'f':
		return set, true, '\f', nil
	case 'e':
		return set, true, 0x1b, nil
	case 'a':
		return set, true, 0x07, nil
	case 'b':
		if inClass {
			return set, true, 0x08, nil
		}
	}
	if c >= '0' && c <= '9' {
		r, err := t.octalOrBackref(start, inClass)
		return set, true, r, err
	}
	if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return set, false, 0, t.errorf(start, `unrecognized escape \`+string(c)+` (Perl matches the letter itself, with a warning)`)
	}
	return set, true, rune(c), nil // an escaped metacharacter or any other byte
}

// octalOrBackref parses \0, \NNN and \N after the backslash: Perl reads
// \1 to \9, and \10 and up when there are that many groups, as
// backreferences, and the rest as octal escapes (in a class always
// octal).
func (t *translator) octalOrBackref(start int, inClass bool) (rune, error) {
	t.pos = start + 1
	j := t.pos
	for j < len(t.src) && t.src[j] >= '0' && t.src[j] <= '9' {
		j++
	}
	digits := t.src[t.pos:j]
	if !inClass && digits[0] != '0' {
		n, _ := strconv.Atoi(digits)
		if len(digits) > 9 || n <= 9 || n <= t.groups {
			return 0, t.errorf(start, "backreferences are not supported: Go's regexp has none")
		}
	}
	k := 0
	var r rune
	for k < len(digits) && k < 3 && digits[k] <= '7' {
		r = r*8 + rune(digits[k]-'0')
		k++
	}
	if k == 0 {
		return 0, t.errorf(start, `\`+digits+` is neither a backreference nor an octal escape`)
	}
	t.pos += k
	t.noteChar(r)
	return r, nil
}

// noteChar records that a character above 0xFF makes Perl use Unicode
// rules.
func (t *translator) noteChar(r rune) {
	if r > 0xFF {
		t.needUni = true
	}
}

// hexChar parses \xHH or \x{...} after the "\x".
func (t *translator) hexChar(start int) (rune, error) {
	if t.more() && t.peek() == '{' {
		return t.bracedNumber(start, 16)
	}
	var r rune
	for k := 0; k < 2 && t.more() && isHexDigit(t.peek()); k++ {
		r = r*16 + rune(hexValue(t.peek()))
		t.pos++
	}
	return r, nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexValue(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// bracedNumber parses {digits} in base 8 or 16 at t.pos. Values beyond
// Unicode are kept as a character that matches nothing.
func (t *translator) bracedNumber(start, base int) (rune, error) {
	end := strings.IndexByte(t.src[t.pos:], '}')
	if end < 0 {
		return 0, t.errorf(start, "missing } in escape")
	}
	digits := strings.Trim(t.src[t.pos+1:t.pos+end], " \t")
	digits = strings.ReplaceAll(digits, "_", "")
	t.pos += end + 1
	if digits == "" {
		return 0, t.errorf(start, "empty escape braces")
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			n = 0x7fffffff
		} else {
			return 0, t.errorf(start, "bad digits in escape braces")
		}
	}
	r := rune(min(n, 0x7fffffff))
	t.noteChar(r)
	return r, nil
}

// namedChar parses \N{U+hex} after the "\N". Perl's character names
// are not supported (Go has no table of them).
func (t *translator) namedChar(start int) (rune, error) {
	end := strings.IndexByte(t.src[t.pos:], '}')
	if end < 0 {
		return 0, t.errorf(start, `missing } in \N{...}`)
	}
	name := t.src[t.pos+1 : t.pos+end]
	t.pos += end + 1
	t.needUni = true
	hex, ok := strings.CutPrefix(name, "U+")
	n, err := strconv.ParseUint(hex, 16, 32)
	if !ok || err != nil || strings.ContainsAny(hex, "+-") {
		return 0, t.errorf(start, `named characters \N{NAME} are not supported: use \N{U+hex} or \x{hex}`)
	}
	return rune(min(n, 0x7fffffff)), nil
}

// parseProperty parses \p{...}, \P{...}, \pL or \PL after the letter.
func (t *translator) parseProperty(f *flags, negate bool, start int) (byteSet, error) {
	var name string
	switch {
	case !t.more():
		return byteSet{}, t.errorf(start, `\p needs a property name`)
	case t.peek() == '{':
		end := strings.IndexByte(t.src[t.pos:], '}')
		if end < 0 {
			return byteSet{}, t.errorf(start, `missing } in \p{...}`)
		}
		name = strings.TrimSpace(t.src[t.pos+1 : t.pos+end])
		t.pos += end + 1
	default:
		name = t.src[t.pos : t.pos+1]
		t.pos++
	}
	if rest, ok := strings.CutPrefix(name, "^"); ok {
		name, negate = strings.TrimSpace(rest), !negate
	}
	t.needUni = true
	p, msg := lookupProperty(name)
	if msg != "" {
		return byteSet{}, t.errorf(start, msg+`: \p{`+name+`}`)
	}
	s := p.set
	if f.i {
		s = p.caseless()
	}
	if negate {
		s.invert()
	}
	return s, nil
}

// parseClass parses a bracketed class [...].
func (t *translator) parseClass(f *flags) (byteSet, error) {
	start := t.pos
	t.pos++
	negate := false
	if t.more() && t.peek() == '^' {
		negate = true
		t.pos++
	}
	var chars runeRanges // explicit characters and ranges: /i folds them
	var sets byteSet     // \w, [:alpha:], \p{}...: not folded
	first := true
	for {
		if f.xx {
			for t.more() && (t.peek() == ' ' || t.peek() == '\t') {
				t.pos++
			}
		}
		if !t.more() {
			return byteSet{}, t.errorf(start, "unmatched [")
		}
		if t.peek() == ']' && !first {
			t.pos++
			break
		}
		first = false
		elemStart := t.pos
		s, isChar, lo, err := t.classElem(f)
		if err != nil {
			return byteSet{}, err
		}
		if !isChar {
			sets.union(s)
			continue
		}
		if c1, ok := t.peekAt(0); ok && c1 == '-' {
			if c2, ok := t.peekAt(1); ok && c2 != ']' {
				t.pos++
				s2, isChar2, hi, err := t.classElem(f)
				if err != nil {
					return byteSet{}, err
				}
				switch {
				case !isChar2: // Perl: a "false range", the - is literal
					chars = append(chars, [2]rune{lo, lo}, [2]rune{'-', '-'})
					sets.union(s2)
				case hi < lo:
					return byteSet{}, t.errorf(elemStart, "invalid [] range")
				default:
					chars = append(chars, [2]rune{lo, hi})
				}
				continue
			}
		}
		fm := t.foldMode(f)
		if fm == foldLatin1 && !negate && (lo == 0xDF || lo == 0x1E9E) {
			return byteSet{}, t.errorf(elemStart, "ß in a class under /i with Unicode rules also matches \"ss\" in Perl (a multi-character fold), which Go's regexp cannot express")
		}
		chars = append(chars, [2]rune{lo, lo})
	}
	s := chars.bytes(t.foldMode(f))
	s.union(sets)
	if negate {
		s.invert()
	}
	return s, nil
}

// classElem parses one element of a class: a character, an escape, or a
// POSIX class.
func (t *translator) classElem(f *flags) (set byteSet, isChar bool, ch rune, err error) {
	start := t.pos
	c := t.peek()
	switch {
	case c == '[' && start+1 < len(t.src) && strings.IndexByte(":=.", t.src[start+1]) >= 0:
		kind := t.src[start+1]
		end := strings.Index(t.src[start+2:], string(kind)+"]")
		close := strings.IndexByte(t.src[start+2:], ']')
		if end < 0 || close < end+1 {
			break // not a POSIX class: a literal [
		}
		if kind != ':' {
			return set, false, 0, t.errorf(start, "POSIX syntax [= =] and [. .] is reserved")
		}
		name := t.src[start+2 : start+2+end]
		t.pos = start + 2 + end + 2
		neg := false
		if n, ok := strings.CutPrefix(name, "^"); ok {
			name, neg = n, true
		}
		p, ok := posixClasses[name]
		if !ok {
			return set, false, 0, t.errorf(start, "POSIX class [:"+name+":] unknown")
		}
		s := p.set(t.unicodeRules(f), f.i)
		if neg {
			s.invert()
		}
		return s, false, 0, nil
	case c == '\\':
		if n, ok := t.peekAt(1); ok && n == 'N' {
			if b, ok := t.peekAt(2); !ok || b != '{' {
				return set, false, 0, t.errorf(start, `\N without braces is not allowed in a class`)
			}
		}
		return t.classEscape(f, true)
	}
	t.pos++
	return set, true, rune(c), nil
}
