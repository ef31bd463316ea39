//go:build !purego

package perlmem

import (
	"math"
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

// Boxing in bulk.
//
// Go holds a value of a non-empty interface type such as perl.Value as two
// words: a pointer to the itab (which names the dynamic type and its
// methods) and a pointer to the data. Unless the dynamic type is itself a
// pointer, the data is a copy of the value in memory of its own: storing a
// perl.Bytes or a perl.Int > 255 in a perl.Value allocates that copy, its
// box. An Allocator instead makes the box a cell of a chunk it allocates
// for many boxes at a time, and builds the interface value from the itab
// of the dynamic type and the cell's address (boxAt).
//
// Why that is sound:
//   - The data word of an interface holding a non-pointer type is an
//     ordinary pointer to the garbage collector, and it may point inside
//     an object, as Go's own interface values do (into read-only data, or
//     the runtime's table of small integers). A pointer to a cell keeps its
//     whole chunk alive, and the chunk's type (an array of perl.Bytes, of
//     perl.Ref...; or bytes for numbers) tells the collector which of its
//     words are pointers, so what the boxed value refers to stays alive too.
//   - The value in a box must never change: Go copies it out whenever the
//     interface is converted back, and shares boxes freely. A cell is
//     written once, before its box exists, and never again: the Allocator
//     hands each cell out once and never reuses a chunk (Reset drops them).
//   - The cell's type is the dynamic type the itab names, and the cell is
//     aligned for it (numbers: see Allocator.word).
//
// Go has laid out interface values this way since Go 1.4, when the data
// word became always a pointer, and widely used libraries rely on it.
// layoutOK checks it when the program starts; if the check fails, or with
// the build tag purego (see box_purego.go), every box is allocated on its
// own, by a plain conversion.

// iface is the layout of a non-empty interface value.
type iface struct {
	tab  unsafe.Pointer // *itab
	data unsafe.Pointer
}

func tabOf(v perl.Value) unsafe.Pointer { return (*iface)(unsafe.Pointer(&v)).tab }

// boxAt returns the interface value of dynamic type tab whose data is at p.
func boxAt(tab, p unsafe.Pointer) perl.Value {
	return *(*perl.Value)(unsafe.Pointer(&iface{tab: tab, data: p}))
}

var (
	bytesTab  = tabOf(perl.Bytes(nil))
	stringTab = tabOf(perl.String(""))
	intTab    = tabOf(perl.Int(0))
	uintTab   = tabOf(perl.Uint(0))
	floatTab  = tabOf(perl.Float(0))
	refTab    = tabOf(perl.Ref{})
)

// bulk reports whether boxes come from chunks: the layout is the one
// described above.
var bulk = layoutOK()

// layoutOK checks that values built by boxAt are what Go's own
// conversions make: equal values of the same dynamic type.
func layoutOK() bool {
	if unsafe.Sizeof(iface{}) != unsafe.Sizeof(perl.Value(nil)) {
		return false
	}
	b, s, i, f := perl.Bytes("box"), perl.String("box"), perl.Int(-1<<40), perl.Float(0.5)
	u, r := perl.Uint(math.MaxUint64), perl.Ref{To: &perl.Scalar{}, Weak: true}
	bv, _ := boxAt(bytesTab, unsafe.Pointer(&b)).(perl.Bytes)
	sv, _ := boxAt(stringTab, unsafe.Pointer(&s)).(perl.String)
	iv, _ := boxAt(intTab, unsafe.Pointer(&i)).(perl.Int)
	fv, _ := boxAt(floatTab, unsafe.Pointer(&f)).(perl.Float)
	uv, _ := boxAt(uintTab, unsafe.Pointer(&u)).(perl.Uint)
	rv, _ := boxAt(refTab, unsafe.Pointer(&r)).(perl.Ref)
	return string(bv) == "box" && sv == "box" && iv == i && fv == f && uv == u && rv == r &&
		unsafe.SliceData(bv) == unsafe.SliceData(b)
}

func (a *Allocator) boxBytes(b []byte) perl.Value {
	if !bulk {
		return perl.Bytes(b)
	}
	c := a.bytesBox.one()
	*c = b
	return boxAt(bytesTab, unsafe.Pointer(c))
}

func (a *Allocator) boxString(s string) perl.Value {
	if !bulk {
		return perl.String(s)
	}
	c := a.stringBox.one()
	*c = perl.String(s)
	return boxAt(stringTab, unsafe.Pointer(c))
}

func (a *Allocator) boxRef(r perl.Ref) perl.Value {
	if !bulk {
		return r
	}
	c := a.refBox.one()
	*c = r
	return boxAt(refTab, unsafe.Pointer(c))
}

// boxRefAt returns the value of *c (a cell of a chunk, or of a container
// with its reference) as a perl.Value: c is the box.
func boxRefAt(c *perl.Ref) perl.Value {
	if !bulk {
		return *c
	}
	return boxAt(refTab, unsafe.Pointer(c))
}

func (a *Allocator) boxInt(v int64) perl.Value {
	if !bulk {
		return perl.Int(v)
	}
	return boxAt(intTab, a.word(uint64(v)))
}

func (a *Allocator) boxUint(v uint64) perl.Value {
	if !bulk {
		return perl.Uint(v)
	}
	return boxAt(uintTab, a.word(v))
}

func (a *Allocator) boxFloat(v float64) perl.Value {
	if !bulk {
		return perl.Float(v)
	}
	return boxAt(floatTab, a.word(math.Float64bits(v)))
}
