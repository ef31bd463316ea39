package hashkey

import (
	"fmt"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// add adds the entries to a new Set one by one and returns the index of
// the first that repeats a key and the index of the entry it repeats, or
// -1, -1.
func add(es []perl.HashEntry) (int, int) {
	var s Set
	for i := range es {
		if j := s.Add(es, i); j >= 0 {
			return i, j
		}
	}
	return -1, -1
}

func entries(keys ...string) []perl.HashEntry {
	es := make([]perl.HashEntry, len(keys))
	for i, k := range keys {
		es[i].Key = k
	}
	return es
}

func TestAdd(t *testing.T) {
	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprint("key", i))
	}
	for _, c := range []struct {
		name string
		es   []perl.HashEntry
		i, j int
	}{
		{"empty", nil, -1, -1},
		{"distinct", entries("a", "b", "ab", "ba", ""), -1, -1},
		{"same first and last characters", entries("axb", "ayb", "ab", "aab"), -1, -1},
		{"repeated", entries("a", "b", "a"), 2, 0},
		{"empty key repeated", entries("", "x", ""), 2, 0},
		{"large, distinct", entries(many...), -1, -1},
		{"large, repeated early", entries(append(many[:50:50], "key3")...), 50, 3},
		{"large, repeated late", entries(append(many, "key99")...), 100, 99},
		{"byte and UTF-8 key of the same text", []perl.HashEntry{{Key: "\xe9"}, {Key: "x"}, {Key: "é", UTF8: true}}, 2, 0},
		{"UTF-8 key and byte key of the same text", []perl.HashEntry{{Key: "ü", UTF8: true}, {Key: "\xfc"}}, 1, 0},
		{"byte and UTF-8 keys of other texts", []perl.HashEntry{{Key: "\xc3\xa9"}, {Key: "é", UTF8: true}}, -1, -1},
		{"large, byte and UTF-8 key of the same text", append(entries(many...), perl.HashEntry{Key: "\xe9"}, perl.HashEntry{Key: "é", UTF8: true}), 101, 100},
	} {
		if i, j := add(c.es); i != c.i || j != c.j {
			t.Errorf("%s: duplicate %d of %d, want %d of %d", c.name, i, j, c.i, c.j)
		}
	}
}

// TestPrint checks that keys of the same text have the same print,
// whatever their representation.
func TestPrint(t *testing.T) {
	for _, text := range []string{"", "a", "é", "aé", "éa", "\u00ff\u0100x", "naïve", "\x00\xff"} {
		u := perl.HashEntry{Key: text, UTF8: true}
		b := perl.HashEntry{Key: text}
		if l, ok := latin1(text); ok {
			b.Key = l
			if keyPrint(&u) != keyPrint(&b) {
				t.Errorf("%q: prints %d and %d", text, keyPrint(&u), keyPrint(&b))
			}
		}
	}
}

// latin1 returns text as one byte per character, if it can.
func latin1(text string) (string, bool) {
	var b []byte
	for _, r := range text {
		if r > 0xff {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}
