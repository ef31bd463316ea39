package perl

import "unicode/utf8"

// Hash is a Perl hash. It keeps its entries in the order they were added
// (for a decoded hash: the order on the wire), so that encoding a decoded
// hash again writes the keys in the same order.
//
// Keys are compared as Perl compares them: by their characters, so the
// byte key "\xe9" and the UTF-8 key "é" are the same key.
type Hash struct {
	// Class is the package the hash is blessed into, or "".
	Class string
	// Restricted marks a restricted hash (Hash::Util::lock_keys).
	Restricted bool
	// Entries are the key/value pairs in order. Code that appends to
	// Entries directly must not add a key twice; Set does this check.
	Entries []HashEntry
}

// HashEntry is one key/value pair of a Hash.
type HashEntry struct {
	// Key is the key as Perl holds it: UTF-8 encoded when UTF8 is set,
	// otherwise one byte per character.
	Key string
	// UTF8 reports whether the key is a UTF-8 string.
	UTF8 bool
	// Flags are the key's flags in a restricted hash.
	Flags KeyFlags
	// Value is the value; a placeholder (see KeyPlaceholder) holds Undef.
	Value Value
}

// KeyFlags are the flags Storable keeps per key of a hash.
type KeyFlags uint8

const (
	// KeyWasUTF8 marks a key that was a UTF-8 string and is held as
	// bytes because all its characters fit in one byte each.
	KeyWasUTF8 KeyFlags = 1 << iota
	// KeyLocked marks a key whose value is read-only in a restricted hash.
	KeyLocked
	// KeyPlaceholder marks a key that a restricted hash allows but does
	// not hold.
	KeyPlaceholder
)

// NewHash returns an empty unblessed hash with room for n entries.
func NewHash(n int) *Hash { return &Hash{Entries: make([]HashEntry, 0, n)} }

// Len returns the number of entries, placeholders included.
func (h *Hash) Len() int { return len(h.Entries) }

// Get returns the value for key, given as Go (UTF-8) text or as bytes, and
// whether the hash holds it. Get takes time proportional to the size of
// the hash; use Index for many look-ups in a large hash.
func (h *Hash) Get(key string) (Value, bool) {
	if i := h.find(key, keyIsUTF8(key)); i >= 0 && h.Entries[i].Flags&KeyPlaceholder == 0 {
		return h.Entries[i].Value, true
	}
	return nil, false
}

// Set sets the value for key, replacing an existing entry in place or
// appending a new one. A key with characters outside ASCII that is valid
// UTF-8 is stored as a UTF-8 key, any other as a byte key.
func (h *Hash) Set(key string, v Value) {
	u := keyIsUTF8(key)
	if i := h.find(key, u); i >= 0 {
		h.Entries[i].Value = v
		h.Entries[i].Flags &^= KeyPlaceholder
		return
	}
	h.Entries = append(h.Entries, HashEntry{Key: key, UTF8: u, Value: v})
}

// Delete removes key, keeping the order of the other entries.
func (h *Hash) Delete(key string) {
	if i := h.find(key, keyIsUTF8(key)); i >= 0 {
		h.Entries = append(h.Entries[:i], h.Entries[i+1:]...)
	}
}

// Index returns a map from each key (as UTF-8 text, byte keys converted
// from Latin-1) to its value, for many look-ups in a large hash.
func (h *Hash) Index() map[string]Value {
	m := make(map[string]Value, len(h.Entries))
	for _, e := range h.Entries {
		if e.Flags&KeyPlaceholder == 0 {
			m[e.Text()] = e.Value
		}
	}
	return m
}

// Text returns the key as UTF-8 text (a byte key is read as Latin-1).
func (e HashEntry) Text() string {
	if e.UTF8 {
		return e.Key
	}
	return Latin1ToUTF8(e.Key)
}

func (h *Hash) find(key string, utf8Key bool) int {
	for i := range h.Entries {
		e := &h.Entries[i]
		if e.Key == key && (e.UTF8 == utf8Key || isASCII(key)) {
			return i
		}
	}
	if isASCII(key) {
		return -1
	}
	// The same characters may be held in the other representation.
	text := key
	if !utf8Key {
		text = Latin1ToUTF8(key)
	}
	for i := range h.Entries {
		if h.Entries[i].Text() == text {
			return i
		}
	}
	return -1
}

func keyIsUTF8(s string) bool { return !isASCII(s) && utf8.ValidString(s) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Latin1ToUTF8 returns the UTF-8 text of s read as Latin-1 (one byte per
// character), which is how Perl sees a string without the UTF-8 flag.
func Latin1ToUTF8(s string) string {
	if isASCII(s) {
		return s
	}
	b := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return string(b)
}
