package storable

import (
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

// refKey identifies a referent by its address and kind. The kind keeps
// apart two referents that could share an address (a struct and its
// first field).
type refKey struct {
	p    uintptr
	kind perl.Kind
}

func keyOf(r perl.Referent) refKey {
	var p unsafe.Pointer
	switch x := r.(type) {
	case *perl.Array:
		p = unsafe.Pointer(x)
	case *perl.Hash:
		p = unsafe.Pointer(x)
	case *perl.Scalar:
		p = unsafe.Pointer(x)
	case *perl.Regexp:
		p = unsafe.Pointer(x)
	case *perl.Hook:
		p = unsafe.Pointer(x)
	}
	return refKey{uintptr(p), r.Kind()}
}

// tagTable maps the referents written so far to their tags: a short list
// searched in order while it is small, then an open-addressing hash table.
// Go's heap does not move objects, and every referent stays reachable from
// the value being encoded, so addresses are stable keys for one encoding.
type tagTable struct {
	list  []tagSlot
	slots []tagSlot // hash table, len a power of two, or nil
	n     int
}

type tagSlot struct {
	key refKey
	tag uint64 // tag + 1; 0 marks an empty slot
}

func (t *tagTable) reset() {
	t.list = t.list[:0]
	if t.slots != nil {
		if len(t.slots) > 1<<16 {
			t.slots = nil // do not keep a huge table in the pool
		} else {
			clear(t.slots)
		}
	}
	t.n = 0
}

func hashKey(k refKey) uint64 {
	return (uint64(k.p)>>3 ^ uint64(k.kind)) * 0x9E3779B97F4A7C15
}

func (t *tagTable) get(r perl.Referent) (uint64, bool) {
	k := keyOf(r)
	if t.n == 0 {
		for i := range t.list {
			if t.list[i].key == k {
				return t.list[i].tag - 1, true
			}
		}
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := hashKey(k) >> 32 & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tag == 0 {
			return 0, false
		}
		if s.key == k {
			return s.tag - 1, true
		}
	}
}

func (t *tagTable) put(r perl.Referent, tag uint64) {
	k := keyOf(r)
	if t.n == 0 && len(t.list) < smallTable {
		t.list = append(t.list, tagSlot{k, tag + 1})
		return
	}
	if t.n == 0 {
		if len(t.slots) < 4*smallTable {
			t.slots = make([]tagSlot, 4*smallTable)
		}
		for _, s := range t.list {
			t.insert(s)
		}
	}
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]tagSlot, 2*len(old))
		t.n = 0
		for _, s := range old {
			if s.tag != 0 {
				t.insert(s)
			}
		}
	}
	t.insert(tagSlot{k, tag + 1})
}

func (t *tagTable) insert(s tagSlot) {
	mask := uint64(len(t.slots) - 1)
	i := hashKey(s.key) >> 32 & mask
	for t.slots[i].tag != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
	t.n++
}
