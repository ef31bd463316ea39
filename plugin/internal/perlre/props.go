package perlre

import (
	"strings"
	"unicode"
)

// The character classes of Perl as sets of Latin-1 characters (bytes).
// Perl's "ASCII rules" (/a, and /d when the pattern needs no Unicode) and
// its "Unicode rules" (/u, and /d when the pattern needs Unicode) give
// different sets for \d, \w, \s and the POSIX classes; \h, \v and \p{}
// always follow Unicode.

func isAlphabetic(c rune) bool {
	return unicode.IsLetter(c) || unicode.Is(unicode.Nl, c) || unicode.Is(unicode.Other_Alphabetic, c)
}

func isWordU(c rune) bool {
	return isAlphabetic(c) || unicode.Is(unicode.Nd, c) || unicode.IsMark(c) ||
		unicode.Is(unicode.Pc, c) || unicode.Is(unicode.Join_Control, c)
}

func isLowercase(c rune) bool {
	return unicode.IsLower(c) || unicode.Is(unicode.Other_Lowercase, c)
}

func isUppercase(c rune) bool {
	return unicode.IsUpper(c) || unicode.Is(unicode.Other_Uppercase, c)
}

func isCased(c rune) bool {
	return isLowercase(c) || isUppercase(c) || unicode.IsTitle(c)
}

func isSpaceU(c rune) bool { return unicode.Is(unicode.White_Space, c) }
func isBlank(c rune) bool  { return c == '\t' || unicode.Is(unicode.Zs, c) }
func isGraphU(c rune) bool {
	return !isSpaceU(c) && !unicode.Is(unicode.Cc, c) && !unicode.Is(unicode.Cs, c)
}
func isPunctU(c rune) bool {
	return unicode.IsPunct(c) || c < 0x80 && unicode.IsSymbol(c)
}
func isXDigit(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}
func isASCIIAlpha(c rune) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

var (
	setDigit  = setOf(func(c rune) bool { return c >= '0' && c <= '9' })
	setWordA  = setOf(func(c rune) bool { return isASCIIAlpha(c) || c >= '0' && c <= '9' || c == '_' })
	setWordU  = setOf(isWordU)
	setSpaceA = setOf(func(c rune) bool { return c >= '\t' && c <= '\r' || c == ' ' })
	setSpaceU = setOf(isSpaceU)
	setHoriz  = setOf(isBlank)
	setVert   = setOf(func(c rune) bool { return c >= '\n' && c <= '\r' || c == 0x85 })
	setNotNL  = setOf(func(c rune) bool { return c != '\n' })
	setAll    = setOf(func(rune) bool { return true })
	setCasedA = setOf(isASCIIAlpha)
	setCasedU = setOf(isCased)
)

// posixClass is a POSIX class ([[:alpha:]]) with its ASCII and Unicode
// sets; cased classes match every cased letter under /i.
type posixClass struct {
	ascii, uni byteSet
	cased      bool
}

var posixClasses = map[string]posixClass{
	"alpha": {setOf(isASCIIAlpha), setOf(isAlphabetic), false},
	"alnum": {setOf(func(c rune) bool { return isASCIIAlpha(c) || c >= '0' && c <= '9' }),
		setOf(func(c rune) bool { return isAlphabetic(c) || unicode.Is(unicode.Nd, c) }), false},
	"ascii":  {setOf(func(c rune) bool { return c < 0x80 }), setOf(func(c rune) bool { return c < 0x80 }), false},
	"blank":  {setOf(func(c rune) bool { return c == '\t' || c == ' ' }), setHoriz, false},
	"cntrl":  {setOf(func(c rune) bool { return c < 0x20 || c == 0x7f }), setOf(func(c rune) bool { return unicode.Is(unicode.Cc, c) }), false},
	"digit":  {setDigit, setDigit, false},
	"graph":  {setOf(func(c rune) bool { return c > 0x20 && c < 0x7f }), setOf(isGraphU), false},
	"lower":  {setOf(func(c rune) bool { return c >= 'a' && c <= 'z' }), setOf(isLowercase), true},
	"print":  {setOf(func(c rune) bool { return c >= 0x20 && c < 0x7f }), setOf(func(c rune) bool { return isGraphU(c) || isBlank(c) && !unicode.Is(unicode.Cc, c) }), false},
	"punct":  {setOf(func(c rune) bool { return c < 0x80 && isPunctU(c) }), setOf(isPunctU), false},
	"space":  {setSpaceA, setSpaceU, false},
	"upper":  {setOf(func(c rune) bool { return c >= 'A' && c <= 'Z' }), setOf(isUppercase), true},
	"word":   {setWordA, setWordU, false},
	"xdigit": {setOf(isXDigit), setOf(isXDigit), false},
}

// set returns the class's set under the rules given.
func (p posixClass) set(unicodeRules, caseless bool) byteSet {
	switch {
	case p.cased && caseless && unicodeRules:
		return setCasedU
	case p.cased && caseless:
		return setCasedA
	case unicodeRules:
		return p.uni
	}
	return p.ascii
}

// property is a Unicode property of \p{NAME} restricted to Latin-1.
type property struct {
	set byteSet
	// cased marks Perl's case properties (Lu, Lowercase, ...), which
	// match every cased letter under /i; posix marks the ASCII ones
	// among them (PosixLower, PosixUpper).
	cased, posix bool
	// caseSet, when not empty, replaces every cased letter for /i: the
	// case categories (Lu, Ll, Lt) widen only to the cased letters
	// category (LC).
	caseSet byteSet
}

// caseless returns the property's set under /i.
func (p property) caseless() byteSet {
	switch {
	case p.caseSet != byteSet{}:
		return p.caseSet
	case p.cased && p.posix:
		return setCasedA
	case p.cased:
		return setCasedU
	}
	return p.set
}

// looseName applies Perl's loose matching of property names: case,
// spaces, underscores and hyphens do not count.
func looseName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '_' || c == '-' || c == '\t':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// generalCategories maps loose General_Category names, short and long,
// to Go's category names (LC is Go-less: Lu, Ll and Lt).
var generalCategories = map[string]string{
	"l": "L", "letter": "L", "lc": "LC", "l&": "LC", "casedletter": "LC",
	"lu": "Lu", "uppercaseletter": "Lu", "ll": "Ll", "lowercaseletter": "Ll",
	"lt": "Lt", "titlecaseletter": "Lt", "lm": "Lm", "modifierletter": "Lm",
	"lo": "Lo", "otherletter": "Lo",
	"m": "M", "mark": "M", "combiningmark": "M", "mn": "Mn", "nonspacingmark": "Mn",
	"mc": "Mc", "spacingmark": "Mc", "me": "Me", "enclosingmark": "Me",
	"n": "N", "number": "N", "nd": "Nd", "decimalnumber": "Nd", "nl": "Nl", "letternumber": "Nl",
	"no": "No", "othernumber": "No",
	"p": "P", "punctuation": "P", "pc": "Pc", "connectorpunctuation": "Pc",
	"pd": "Pd", "dashpunctuation": "Pd", "ps": "Ps", "openpunctuation": "Ps",
	"pe": "Pe", "closepunctuation": "Pe", "pi": "Pi", "initialpunctuation": "Pi",
	"pf": "Pf", "finalpunctuation": "Pf", "po": "Po", "otherpunctuation": "Po",
	"s": "S", "symbol": "S", "sm": "Sm", "mathsymbol": "Sm", "sc": "Sc", "currencysymbol": "Sc",
	"sk": "Sk", "modifiersymbol": "Sk", "so": "So", "othersymbol": "So",
	"z": "Z", "separator": "Z", "zs": "Zs", "spaceseparator": "Zs",
	"zl": "Zl", "lineseparator": "Zl", "zp": "Zp", "paragraphseparator": "Zp",
	"c": "C", "other": "C", "cc": "Cc", "control": "Cc", "cntrl": "Cc", "cf": "Cf", "format": "Cf",
	"cs": "Cs", "surrogate": "Cs", "co": "Co", "privateuse": "Co", "cn": "Cn", "unassigned": "Cn",
}

// caseCategories are the categories that /i widens: Lu and Ll to the
// cased letters category (LC), Lt to every cased character, as Perl 5.36
// does.
var caseCategories = map[string]bool{"Lu": true, "Ll": true, "Lt": false}

func categoryProperty(goName string) property {
	var in func(c rune) bool
	switch goName {
	case "LC":
		in = func(c rune) bool { return unicode.IsUpper(c) || unicode.IsLower(c) || unicode.IsTitle(c) }
	case "Cn": // every Latin-1 character is assigned
		in = func(rune) bool { return false }
	default:
		t := unicode.Categories[goName]
		in = func(c rune) bool { return unicode.Is(t, c) }
	}
	p := property{set: setOf(in)}
	if toLC, ok := caseCategories[goName]; ok {
		p.cased = true
		if toLC {
			p.caseSet = categoryProperty("LC").set
		}
	}
	return p
}

// perlProperties are the properties Perl defines beyond categories and
// scripts, by loose name.
var perlProperties = func() map[string]property {
	m := map[string]property{
		"alpha": {set: setOf(isAlphabetic)}, "alphabetic": {set: setOf(isAlphabetic)},
		"ascii": {set: posixClasses["ascii"].uni},
		"any":   {set: setAll}, "all": {set: setAll}, "unicode": {set: setAll}, "assigned": {set: setAll},
		"blank": {set: setHoriz}, "horizspace": {set: setHoriz}, "vertspace": {set: setVert},
		"digit": {set: setDigit},
		"lower": {set: setOf(isLowercase), cased: true}, "lowercase": {set: setOf(isLowercase), cased: true},
		"upper": {set: setOf(isUppercase), cased: true}, "uppercase": {set: setOf(isUppercase), cased: true},
		"title": {set: categoryProperty("Lt").set, cased: true}, "titlecase": {set: categoryProperty("Lt").set, cased: true},
		"cased": {set: setCasedU},
		"punct": {set: categoryProperty("P").set},
		"space": {set: setSpaceU}, "whitespace": {set: setSpaceU}, "spaceperl": {set: setSpaceU}, "xperlspace": {set: setSpaceU},
		"word":   {set: setWordU},
		"xdigit": {set: setOf(isXDigit)}, "hexdigit": {set: setOf(isXDigit)}, "hex": {set: setOf(isXDigit)},
		"asciihexdigit": {set: setOf(isXDigit)}, "ahex": {set: setOf(isXDigit)},
	}
	for name, p := range posixClasses {
		if name == "ascii" { // Perl has no PosixASCII
			continue
		}
		m["posix"+name] = property{set: p.ascii, cased: p.cased, posix: true}
		m["xposix"+name] = property{set: p.uni, cased: p.cased}
	}
	for _, name := range []string{"alnum", "graph", "print", "cntrl"} {
		m[name] = property{set: posixClasses[name].uni}
	}
	return m
}()

// scriptNames maps loose script names to Go's tables.
var scriptNames = func() map[string]*unicode.RangeTable {
	m := make(map[string]*unicode.RangeTable, len(unicode.Scripts))
	for name, t := range unicode.Scripts {
		m[looseName(name)] = t
	}
	return m
}()

// lookupProperty resolves the name inside \p{...} (without a leading ^).
func lookupProperty(name string) (property, string) {
	key := looseName(name)
	if k, v, ok := strings.Cut(key, "="); ok || strings.Contains(key, ":") {
		if !ok {
			k, v, _ = strings.Cut(key, ":")
		}
		switch k {
		case "gc", "generalcategory", "category":
			if g, ok := generalCategories[v]; ok {
				return categoryProperty(g), ""
			}
			return property{}, "unknown general category"
		case "sc", "script":
			if t, ok := scriptNames[v]; ok {
				return property{set: setOf(func(c rune) bool { return unicode.Is(t, c) })}, ""
			}
			return property{}, "unknown script"
		}
		return property{}, "only the forms gc=, General_Category=, sc= and Script= are supported"
	}
	for _, k := range []string{key, strings.TrimPrefix(key, "is")} {
		if g, ok := generalCategories[k]; ok {
			return categoryProperty(g), ""
		}
		if p, ok := perlProperties[k]; ok {
			return p, ""
		}
		if t, ok := scriptNames[k]; ok {
			return property{set: setOf(func(c rune) bool { return unicode.Is(t, c) })}, ""
		}
	}
	if strings.HasPrefix(key, "in") {
		return property{}, "Unicode blocks (\\p{In...}) are not supported"
	}
	return property{}, "unknown or unsupported Unicode property"
}
