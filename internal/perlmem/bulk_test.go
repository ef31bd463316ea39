//go:build !purego

package perlmem

import (
	"testing"
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

const wantBulk = true

// dataOf returns the data word of v.
func dataOf(v perl.Value) unsafe.Pointer { return (*iface)(unsafe.Pointer(&v)).data }

// TestNumbersAligned checks that boxed numbers are aligned for their
// type, from the arena as well as on their own.
func TestNumbersAligned(t *testing.T) {
	var a Allocator
	a.Reset(100)
	a.Copy([]byte("odd")) // leave the arena at an odd offset
	for i := range 1000 {
		v := a.Float(float64(i) + 0.5)
		if p := dataOf(v); uintptr(p)%8 != 0 {
			t.Fatalf("number %d at %p", i, p)
		}
		a.Copy([]byte("abc")[:i%3+1])
	}
}
