package conn

import (
	"slices"
	"strconv"
	"strings"

	"github.com/goimp/imprpc/perl"
)

// maxTailDepth bounds how deep decimalTail follows references, so that a
// reference cycle cannot make it recurse without end.
const maxTailDepth = 64

// decimalTail returns v with its last scalar in Sereal's order of writing
// (depth-first: the last element of a referenced array, the value of a
// hash's last entry as the encoder writes them, sorted with sortKeys)
// replaced by its decimal string when it is an integer outside -16..15,
// and whether it replaced it. v and what it refers to never change: the
// arrays, hashes and scalars on the way are copied.
func decimalTail(v perl.Value, sortKeys bool, depth int) (perl.Value, bool) {
	switch x := v.(type) {
	case perl.Int:
		if x < -16 || x > srlPosMax {
			return perl.Bytes(strconv.AppendInt(nil, int64(x), 10)), true
		}
	case perl.Uint:
		if x > srlPosMax {
			return perl.Bytes(strconv.AppendUint(nil, uint64(x), 10)), true
		}
	case perl.Ref:
		if to, ok := tailReferent(x.To, sortKeys, depth); ok {
			x.To = to
			return x, true
		}
	case *perl.Scalar, *perl.Array, *perl.Hash:
		if to, ok := tailReferent(x.(perl.Referent), sortKeys, depth); ok {
			return to, true
		}
	}
	return v, false
}

// tailReferent is decimalTail for what a reference refers to.
func tailReferent(r perl.Referent, sortKeys bool, depth int) (perl.Referent, bool) {
	if depth == 0 || perl.IsNil(r) {
		return r, false
	}
	switch x := r.(type) {
	case *perl.Array:
		n := len(x.Elems)
		if n == 0 {
			return r, false
		}
		last, ok := decimalTail(x.Elems[n-1], sortKeys, depth-1)
		if !ok {
			return r, false
		}
		a := *x
		a.Elems = slices.Clone(x.Elems)
		a.Elems[n-1] = last
		return &a, true
	case *perl.Hash:
		i := lastEntry(x, sortKeys)
		if i < 0 {
			return r, false
		}
		last, ok := decimalTail(x.Entries[i].Value, sortKeys, depth-1)
		if !ok {
			return r, false
		}
		h := *x
		h.Entries = slices.Clone(x.Entries)
		h.Entries[i].Value = last
		return &h, true
	case *perl.Scalar:
		last, ok := decimalTail(x.Value, sortKeys, depth-1)
		if !ok {
			return r, false
		}
		s := *x
		s.Value = last
		return &s, true
	}
	return r, false
}

// lastEntry returns the index of the entry of h the Sereal encoder writes
// last (placeholders are not written), or -1 for none: the last one, or
// with sortKeys the greatest key in Perl's string order.
func lastEntry(h *perl.Hash, sortKeys bool) int {
	last := -1
	for i := range h.Entries {
		e := &h.Entries[i]
		if e.Flags&perl.KeyPlaceholder != 0 {
			continue
		}
		if last < 0 || !sortKeys || strings.Compare(e.Text(), h.Entries[last].Text()) >= 0 {
			last = i
		}
	}
	return last
}
