package storable

import "github.com/goimp/imprpc/perl"

// Allocation helpers of the decoder: small arrays and hashes come in one
// allocation with their elements, many come from slabs, small integers are
// boxed once, hash keys repeat.

// smallInts holds the values of SX_BYTE, boxed as perl.Value.
var smallInts = func() (t [256]perl.Value) {
	for i := range t {
		t[i] = perl.Int(i - 128)
	}
	return t
}()

// Containers of up to eight elements come in one allocation with room
// for their elements.
type (
	with2[T, E any] struct {
		v T
		e [2]E
	}
	with4[T, E any] struct {
		v T
		e [4]E
	}
	with8[T, E any] struct {
		v T
		e [8]E
	}
)

// alloc returns a new T and room for n elements of E.
func alloc[T, E any](n int) (*T, []E) {
	switch {
	case n == 0:
		return new(T), nil
	case n <= 2:
		x := new(with2[T, E])
		return &x.v, x.e[:0:n]
	case n <= 4:
		x := new(with4[T, E])
		return &x.v, x.e[:0:n]
	case n <= 8:
		x := new(with8[T, E])
		return &x.v, x.e[:0:n]
	}
	return new(T), make([]E, 0, n)
}

// Once an image has shown a few arrays or hashes, further ones come from
// slabs: blocks of containers and of their elements that are handed out
// in pieces, so that a large image needs few allocations.
const (
	slabAfter    = 8    // containers allocated one by one first
	slabBlock    = 256  // containers per block, at most
	slabElements = 1024 // elements per block, at most
)

// slab hands out values of T, and runs of them, from shared blocks whose
// size doubles up to a limit, so that a small image wastes little.
type slab[T any] struct {
	block []T
	next  int
}

func (s *slab[T]) grow(n, limit int) {
	size := max(n, s.next, 1)
	s.block = make([]T, size)
	s.next = min(2*size, limit)
}

// one returns a new zero T.
func (s *slab[T]) one() *T {
	if len(s.block) == 0 {
		s.grow(1, slabBlock)
	}
	p := &s.block[0]
	s.block = s.block[1:]
	return p
}

// run returns room for n values of T: length 0, capacity n.
func (s *slab[T]) run(n int) []T {
	if n > len(s.block) {
		if n > slabBlock {
			return make([]T, 0, n)
		}
		s.grow(n, slabElements)
	}
	r := s.block[:0:n]
	s.block = s.block[n:]
	return r
}

// slabs are a decoder's slabs; they belong to the values of one image.
type slabs struct {
	n       int // containers allocated so far
	arrays  slab[perl.Array]
	hashes  slab[perl.Hash]
	values  slab[perl.Value]
	entries slab[perl.HashEntry]
}

// container returns a new T with room for n elements of E: one by one
// for the first containers of an image, then from the slabs.
func container[T, E any](d *decodeState, n int, ts *slab[T], es *slab[E]) (*T, []E) {
	if d.slabs.n < slabAfter {
		d.slabs.n++
		return alloc[T, E](n)
	}
	var e []E
	if n > 0 {
		e = es.run(n)
	}
	return ts.one(), e
}

// newArray returns an array with room for n elements.
func (d *decodeState) newArray(class string, n int) *perl.Array {
	a, e := container(d, n, &d.slabs.arrays, &d.slabs.values)
	a.Class, a.Elems = class, e
	return a
}

// newHash returns a hash with room for n entries.
func (d *decodeState) newHash(class string, n int) *perl.Hash {
	h, e := container(d, n, &d.slabs.hashes, &d.slabs.entries)
	h.Class, h.Entries = class, e
	return h
}

// keyString returns b as a string. Once an image has shown many keys,
// keys are shared through a small cache: the records of a large image
// repeat the same few.
func (d *decodeState) keyString(b []byte) string {
	if d.nkeys < 64 || len(b) == 0 || len(b) > 32 {
		d.nkeys++
		return string(b)
	}
	h := (uint(len(b))*131 + uint(b[0])*31 + uint(b[len(b)/2])*7 + uint(b[len(b)-1])) % uint(len(d.keyCache))
	if s := d.keyCache[h]; s == string(b) {
		return s
	}
	s := string(b)
	d.keyCache[h] = s
	d.keyCacheUsed = true
	return s
}
