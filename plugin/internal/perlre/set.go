package perlre

import (
	"math/bits"
	"strconv"
	"strings"
	"unicode"
)

// byteSet is a set of bytes, each standing for the Latin-1 character of
// the same number, which is how Perl sees the bytes of a string without
// the UTF-8 flag.
type byteSet [4]uint64

func (s *byteSet) add(b int)      { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b int) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) union(t byteSet) {
	s[0], s[1], s[2], s[3] = s[0]|t[0], s[1]|t[1], s[2]|t[2], s[3]|t[3]
}
func (s *byteSet) invert() { s[0], s[1], s[2], s[3] = ^s[0], ^s[1], ^s[2], ^s[3] }
func (s *byteSet) count() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

// setOf returns the bytes for which in reports true.
func setOf(in func(c rune) bool) byteSet {
	var s byteSet
	for c := range 256 {
		if in(rune(c)) {
			s.add(c)
		}
	}
	return s
}

// goChar writes byte c as Go regexp syntax for the character U+00cc.
func goChar(b *strings.Builder, c int) {
	if c < 0x80 && (c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') {
		b.WriteByte(byte(c))
		return
	}
	b.WriteString(`\x{`)
	b.WriteString(strconv.FormatInt(int64(c), 16))
	b.WriteByte('}')
}

// noMatch is a Go class that matches nothing.
const noMatch = `[^\x{0}-\x{10ffff}]`

// emit returns s as Go regexp syntax: a single character, a class, or a
// class that matches nothing.
func (s byteSet) emit() string {
	var b strings.Builder
	switch s.count() {
	case 0:
		return noMatch
	case 1:
		for c := range 256 {
			if s.has(c) {
				goChar(&b, c)
			}
		}
		return b.String()
	}
	b.WriteByte('[')
	for c := 0; c < 256; c++ {
		if !s.has(c) {
			continue
		}
		lo := c
		for c+1 < 256 && s.has(c+1) {
			c++
		}
		goChar(&b, lo)
		if c > lo {
			b.WriteByte('-')
			goChar(&b, c)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// foldMode says which case folds /i applies to explicit characters.
type foldMode uint8

const (
	foldNone   foldMode = iota // no /i
	foldASCII                  // Perl's native rules (/d without Unicode): A-Z and a-z only
	foldLatin1                 // Unicode rules (/u, /a, or a pattern that needs Unicode)
	foldNoMix                  // /aa: Unicode rules, but ASCII never matches non-ASCII
)

// folds reports whether byte b may match character c under mode m, c
// being in b's simple case folding orbit.
func (m foldMode) folds(b int, c rune) bool {
	switch m {
	case foldASCII:
		return b < 0x80 && c < 0x80
	case foldLatin1:
		return true
	case foldNoMix:
		return (b < 0x80) == (c < 0x80)
	}
	return false
}

// runeRanges is a set of characters given as inclusive ranges, the
// explicit members of a bracketed class (which /i folds).
type runeRanges [][2]rune

func (r runeRanges) has(c rune) bool {
	for _, x := range r {
		if c >= x[0] && c <= x[1] {
			return true
		}
	}
	return false
}

// bytes returns the bytes that the characters match, folded by m.
func (r runeRanges) bytes(m foldMode) byteSet {
	var s byteSet
	for b := range 256 {
		if r.has(rune(b)) {
			s.add(b)
			continue
		}
		if m == foldNone {
			continue
		}
		for c := unicode.SimpleFold(rune(b)); c != rune(b); c = unicode.SimpleFold(c) {
			if m.folds(b, c) && r.has(c) {
				s.add(b)
				break
			}
		}
	}
	return s
}
