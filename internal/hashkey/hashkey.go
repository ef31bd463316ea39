// Package hashkey finds hash keys that a decoded hash holds twice, for the
// decoders of packages storable and sereal: Perl never writes such a hash,
// and keeping both entries would make a perl.Hash that Perl cannot have.
//
// Keys are compared as Perl compares them, by their characters: the byte
// key "\xe9" and the UTF-8 key "é" are the same key.
package hashkey

import (
	"unicode/utf8"

	"github.com/goimp/imprpc/perl"
)

// smallHash is the number of entries up to which a Set compares keys
// directly, sparing most comparisons with a filter, before it builds an
// index.
const smallHash = 16

// A Set holds the keys of one hash as they are decoded. The zero value is
// an empty set.
type Set struct {
	filter uint64         // a bit per print of the keys so far (see keyPrint)
	index  map[string]int // text of a key: its entry, once the hash is large
}

// Add adds the key of es[i] to the set, which holds the keys of es[:i],
// and returns the index of an entry of es[:i] with the same key, or -1.
func (s *Set) Add(es []perl.HashEntry, i int) int {
	e := &es[i]
	if s.index == nil && i < smallHash {
		bit := uint64(1) << (keyPrint(e) & 63)
		if s.filter&bit != 0 {
			for j := range i {
				if same(&es[j], e) {
					return j
				}
			}
		}
		s.filter |= bit
		return -1
	}
	if s.index == nil {
		s.index = make(map[string]int, cap(es))
		for j := range i {
			s.index[es[j].Text()] = j
		}
	}
	text := e.Text()
	if j, dup := s.index[text]; dup {
		return j
	}
	s.index[text] = i
	return -1
}

// keyPrint mixes the length, first and last characters of a key: keys with
// the same characters have the same print, whatever their representation.
func keyPrint(e *perl.HashEntry) uint {
	k := e.Key
	if k == "" {
		return 0
	}
	first, last, n := rune(k[0]), rune(k[len(k)-1]), len(k)
	if e.UTF8 {
		first, _ = utf8.DecodeRuneInString(k)
		last, _ = utf8.DecodeLastRuneInString(k)
		n = utf8.RuneCountInString(k)
	}
	return uint(first)*7 + uint(last) + uint(n)*13
}

// same reports whether two entries have the same key.
func same(a, b *perl.HashEntry) bool {
	if a.UTF8 == b.UTF8 {
		return a.Key == b.Key
	}
	return a.Text() == b.Text()
}
