package sereal

import (
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

// ptrTable maps referents to indexes of the encoder's refState slice. It
// is an open-addressing hash table keyed by the referent's address, kept
// by a pooled encoder from one document to the next: a generation number
// empties it without clearing, so a table that grew for a large document
// costs nothing for the small ones after it. Addresses stay valid because
// the value being encoded holds the referents, and Go does not move heap
// objects; the table only compares them, it never turns them back into
// pointers.
type ptrTable struct {
	slots []ptrSlot
	gen   uint32
	n     int
}

type ptrSlot struct {
	key uintptr
	gen uint32
	idx int32
}

// maxKeptSlots is the table size above which a pooled encoder drops its
// table rather than keep it.
const maxKeptSlots = 1 << 20

// addrOf returns the address of a referent.
func addrOf(r perl.Referent) uintptr {
	switch x := r.(type) {
	case *perl.Array:
		return uintptr(unsafe.Pointer(x))
	case *perl.Hash:
		return uintptr(unsafe.Pointer(x))
	case *perl.Scalar:
		return uintptr(unsafe.Pointer(x))
	case *perl.Regexp:
		return uintptr(unsafe.Pointer(x))
	case *perl.Hook:
		return uintptr(unsafe.Pointer(x))
	}
	return 0
}

// reset empties the table.
func (t *ptrTable) reset() {
	t.n = 0
	t.gen++
	if t.gen == 0 { // wrapped: old entries could look current
		clear(t.slots)
		t.gen = 1
	}
	if len(t.slots) > maxKeptSlots {
		t.slots = nil
	}
}

// slot returns the first slot to probe for key: a hash that keeps
// neighbouring addresses (objects allocated one after the other) in
// neighbouring slots, which the caches like.
func (t *ptrTable) slot(key uintptr) int {
	k := uint64(key)
	return int((k>>3 ^ k>>10 ^ k>>20) & (uint64(len(t.slots)) - 1))
}

// get returns the index stored for key.
func (t *ptrTable) get(key uintptr) (int32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := len(t.slots) - 1
	for i := t.slot(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.gen != t.gen {
			return 0, false
		}
		if s.key == key {
			return s.idx, true
		}
	}
}

// put stores idx for key, which is not in the table.
func (t *ptrTable) put(key uintptr, idx int32) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	i := t.slot(key)
	for t.slots[i].gen == t.gen {
		i = (i + 1) & mask
	}
	t.slots[i] = ptrSlot{key: key, gen: t.gen, idx: idx}
	t.n++
}

func (t *ptrTable) grow() {
	old := t.slots
	size := max(64, 2*len(old))
	t.slots = make([]ptrSlot, size)
	gen := t.gen
	if gen == 0 {
		gen = 1
	}
	t.gen = gen
	t.n = 0
	for _, s := range old {
		if s.gen == gen {
			t.put(s.key, s.idx)
		}
	}
}
