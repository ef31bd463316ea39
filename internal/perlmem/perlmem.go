// Package perlmem hands out the memory of decoded Perl values in bulk, for
// the decoders of packages storable and sereal.
//
// A decoded document is a tree of many small values, and in Go each of
// them would otherwise be an allocation of its own: an array and its
// elements, a hash and its entries, the copy of a string, and the box that
// holds a scalar such as a perl.Bytes, perl.Int or perl.Ref when it is
// stored in a perl.Value interface. Allocations are cheap one by one, but a
// 1 MB document has hundreds of thousands of them, and each adds to the
// work of the garbage collector. An [Allocator] hands these out from
// blocks that grow with what the document has needed so far. The first
// few values of each kind are allocated one by one, as they would be
// without it, so that a small document wastes no memory on blocks it
// does not fill: in a program with much live data, every byte allocated
// costs the collector about as much as an allocation of its own.
//
// Memory handed out belongs to the decoded values: an Allocator never
// writes it again and never hands it out twice. [Allocator.Reset] drops
// the blocks it holds instead of reusing them, so that an Allocator can
// serve one document after another while the values of earlier documents
// stay in use. A value kept alive keeps its whole block alive; blocks are
// at most a few KiB, so that this costs little.
//
// Boxing scalars in bulk (see [Allocator.Bytes]) relies on how Go lays out
// interface values (box.go says how and why that is sound); building with
// the tag purego, or a layout this package does not recognise at start,
// turns it off and boxes each scalar on its own, as a plain conversion
// does.
package perlmem

import (
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

// Sizes of the blocks.
const (
	// The first single boxes of each type, arrays and hashes of a
	// document are allocated one by one.
	single = 8

	// Copied strings and boxed numbers share the blocks of an arena,
	// which double from firstBlock bytes up to maxBlock, but are no
	// larger than what is left of the document while the document
	// can tell (see Reset). A string longer than maxArenaString that
	// does not fit into the current block gets memory of its own.
	firstBlock     = 256
	maxBlock       = 16 << 10
	maxArenaString = 128

	// Cells (boxes, arrays, hashes, elements, entries) come in chunks
	// that double from firstChunk cells up to maxChunk bytes. A run of
	// elements of more than a quarter of maxChunk gets memory of its
	// own.
	firstChunk = 16
	maxChunk   = 16 << 10
)

// An Allocator hands out the memory of the values of one document at a
// time. The zero value is ready to use. It is not safe for concurrent
// use.
//
// What is free in a block or chunk is tracked by an index rather than by
// reslicing, so that handing memory out writes no pointers (which would
// cost write barriers while the garbage collector runs).
type Allocator struct {
	block   []byte // the current block of the arena
	used    int    // bytes of block handed out
	nblocks int    // blocks allocated, until they reach maxBlock
	left    int    // bytes of the document not yet copied
	words   int    // numbers boxed on their own

	bytesBox  cells[perl.Bytes]
	stringBox cells[perl.String]
	refBox    cells[perl.Ref]
	arrays    cells[perl.Array]
	hashes    cells[perl.Hash]
	elems     cells[perl.Value]
	entries   cells[perl.HashEntry]
}

// Reset drops the memory the Allocator holds, which stays with the values
// made from it, and prepares it for the next document. size is what the
// document's copied strings can need at most (its size, as they are
// part of it), or 0 if that is not known: a small document then needs
// just one small block of the arena.
func (a *Allocator) Reset(size int) {
	if a.block != nil {
		a.block = nil // only when needed: a pointer write costs a write barrier
	}
	a.used, a.nblocks, a.left, a.words = 0, 0, size, 0
	a.bytesBox.reset()
	a.stringBox.reset()
	a.refBox.reset()
	a.arrays.reset()
	a.hashes.reset()
	a.elems.reset()
	a.entries.reset()
}

// cells hands out values of T one at a time, or in runs, from chunks of
// growing size.
type cells[T any] struct {
	chunk  []T
	used   int // cells of chunk handed out
	chunks int // chunks allocated, until they reach maxChunk
	n      int // values handed out one at a time
}

func (c *cells[T]) reset() {
	if c.chunk != nil {
		c.chunk = nil
	}
	c.used, c.chunks, c.n = 0, 0, 0
}

// grow starts a new chunk with room for at least n cells.
func (c *cells[T]) grow(n int) {
	var zero T
	size := min(firstChunk<<c.chunks, maxChunk/int(unsafe.Sizeof(zero)))
	if size < maxChunk/int(unsafe.Sizeof(zero)) {
		c.chunks++
	}
	c.chunk, c.used = make([]T, max(size, n)), 0
}

// one returns a new zero T.
func (c *cells[T]) one() *T {
	if c.n < single {
		c.n++
		return new(T)
	}
	if c.used == len(c.chunk) {
		c.grow(1)
	}
	c.used++
	return &c.chunk[c.used-1]
}

// run returns room for n values of T: length 0, capacity n, so that an
// append beyond n cannot reach a neighbour.
func (c *cells[T]) run(n int) []T {
	if n > len(c.chunk)-c.used {
		var zero T
		if n > maxChunk/4/int(unsafe.Sizeof(zero)) {
			return make([]T, 0, n)
		}
		c.grow(n)
	}
	c.used += n
	return c.chunk[c.used-n : c.used-n : c.used]
}

// empty is where zero-length copies point: not nil, and nothing to
// overwrite.
var empty [0]byte

// Copy returns a copy of b. Short strings share blocks; a longer one that
// does not fit into the current block gets memory of its own. The copy's
// capacity is its length: appending to it reallocates.
func (a *Allocator) Copy(b []byte) []byte {
	n := len(b)
	if n == 0 {
		return empty[:]
	}
	a.left -= n
	if n > len(a.block)-a.used {
		if n > maxArenaString {
			// append allocates without zeroing first, unlike make.
			return append([]byte(nil), b...)
		}
		a.newBlock(n)
	}
	c := a.block[a.used : a.used+n : a.used+n]
	a.used += n
	copy(c, b)
	return c
}

// CopyString returns a copy of b as a string.
func (a *Allocator) CopyString(b []byte) string {
	c := a.Copy(b)
	return unsafe.String(unsafe.SliceData(c), len(c)) // c is never written again
}

// newBlock starts a new block of the arena with room for at least n
// bytes.
func (a *Allocator) newBlock(n int) {
	size := min(firstBlock<<a.nblocks, maxBlock)
	if size < maxBlock {
		a.nblocks++
	}
	if a.left >= 0 { // at most what the document can still need
		size = min(size, a.left+n)
	}
	// A multiple of 8 bytes is aligned for a uint64 (see word).
	a.block, a.used = make([]byte, (max(size, n)+7)&^7), 0
}

// word returns 8 bytes holding v, aligned for a uint64. They come from the
// arena, except for the first few numbers of a document while the arena
// has no room: then a block is started only if the document's strings,
// too, fit into its first one; else a lone number would waste most of
// it. Blocks are aligned for a uint64: Go aligns an allocation whose
// size is a multiple of 8 at least to 8.
func (a *Allocator) word(v uint64) unsafe.Pointer {
	at := (a.used + 7) &^ 7
	if at+8 > len(a.block) {
		small := a.left >= 8 && a.left+8 <= firstBlock
		if a.words < single && !small {
			a.words++
			p := new(uint64) // the runtime packs two of these into 16 bytes
			*p = v
			return unsafe.Pointer(p)
		}
		a.left -= 8
		a.newBlock(8)
		at = 0
	}
	p := unsafe.Pointer(&a.block[at])
	*(*uint64)(p) = v
	a.used = at + 8
	return p
}

// smallInts holds the integers from -128 to 255 boxed once: Go boxes
// 0 to 255 without allocating, but not negative numbers.
var smallInts = func() (t [384]perl.Value) {
	for i := range t {
		t[i] = perl.Int(i - 128)
	}
	return t
}()

// Containers of up to eight elements come in one allocation with room
// for their elements, and for a reference to them when R is perl.Ref
// (struct{} when there is none: it takes no room).
type (
	with2[R, T, E any] struct {
		r R
		v T
		e [2]E
	}
	with4[R, T, E any] struct {
		r R
		v T
		e [4]E
	}
	with6[R, T, E any] struct {
		r R
		v T
		e [6]E
	}
	with8[R, T, E any] struct {
		r R
		v T
		e [8]E
	}
)

// fused returns a new R, a new T and room for n elements of E (n at most
// 8) in one allocation.
func fused[R, T, E any](n int) (*R, *T, []E) {
	switch {
	case n == 0:
		x := new(struct {
			r R
			v T
		})
		return &x.r, &x.v, nil
	case n <= 2:
		x := new(with2[R, T, E])
		return &x.r, &x.v, x.e[:0:n]
	case n <= 4:
		x := new(with4[R, T, E])
		return &x.r, &x.v, x.e[:0:n]
	case n <= 6:
		x := new(with6[R, T, E])
		return &x.r, &x.v, x.e[:0:n]
	}
	x := new(with8[R, T, E])
	return &x.r, &x.v, x.e[:0:n]
}

// container returns a new R (when rs is not nil), a new T and room for n
// elements of E: the first few of a document, when small, in one
// allocation.
func container[R, T, E any](n int, rs *cells[R], ts *cells[T], es *cells[E]) (*R, *T, []E) {
	if ts.n < single && n <= 8 {
		ts.n++
		return fused[R, T, E](n)
	}
	var r *R
	if rs != nil {
		r = rs.one()
	}
	var e []E
	if n > 0 {
		e = es.run(n)
	}
	return r, ts.one(), e
}

// Array returns a new unblessed array with room for n elements: Elems has
// length 0 and capacity n.
func (a *Allocator) Array(n int) *perl.Array {
	_, x, e := container[struct{}](n, nil, &a.arrays, &a.elems)
	x.Elems = e
	return x
}

// Hash returns a new unblessed hash with room for n entries: Entries has
// length 0 and capacity n.
func (a *Allocator) Hash(n int) *perl.Hash {
	_, x, e := container[struct{}](n, nil, &a.hashes, &a.entries)
	x.Entries = e
	return x
}

// ArrayRef returns a new array as Array does, and a reference to it as a
// perl.Value: for a small one, both in one allocation.
func (a *Allocator) ArrayRef(n int) (perl.Value, *perl.Array) {
	r, x, e := container(n, &a.refBox, &a.arrays, &a.elems)
	x.Elems = e
	r.To = x
	return boxRefAt(r), x
}

// HashRef returns a new hash as Hash does, and a reference to it as a
// perl.Value: for a small one, both in one allocation.
func (a *Allocator) HashRef(n int) (perl.Value, *perl.Hash) {
	r, x, e := container(n, &a.refBox, &a.hashes, &a.entries)
	x.Entries = e
	r.To = x
	return boxRefAt(r), x
}

// emptyBytes is the boxed empty byte string: not nil, capacity 0, so that
// every empty string of every document can share it.
var emptyBytes perl.Value = perl.Bytes(empty[:])

// Bytes returns b as a perl.Value holding a perl.Bytes. It does not copy
// b (see Copy).
func (a *Allocator) Bytes(b []byte) perl.Value {
	if len(b) == 0 && b != nil {
		return emptyBytes
	}
	return a.boxBytes(b)
}

// String returns s as a perl.Value holding a perl.String.
func (a *Allocator) String(s string) perl.Value { return a.boxString(s) }

// Ref returns r as a perl.Value.
func (a *Allocator) Ref(r perl.Ref) perl.Value { return a.boxRef(r) }

// Int returns v as a perl.Value holding a perl.Int.
func (a *Allocator) Int(v int64) perl.Value {
	if v >= -128 && v < 256 {
		return smallInts[v+128]
	}
	return a.boxInt(v)
}

// Uint returns v as a perl.Value holding a perl.Uint.
func (a *Allocator) Uint(v uint64) perl.Value { return a.boxUint(v) }

// Float returns v as a perl.Value holding a perl.Float.
func (a *Allocator) Float(v float64) perl.Value { return a.boxFloat(v) }
