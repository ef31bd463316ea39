package perlmem

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

// TestLayout checks that the default build boxes in bulk on this
// platform: the check of the interface layout passed.
func TestLayout(t *testing.T) {
	if bulk != wantBulk {
		t.Fatalf("bulk boxing is %v, want %v", bulk, wantBulk)
	}
}

// scalarOf returns the i-th scalar of a deterministic mix of every kind
// an Allocator boxes, as a plain conversion would box it.
func scalarOf(i int) perl.Value {
	switch i % 6 {
	case 0:
		return perl.Bytes(fmt.Sprintf("bytes-%d-%s", i, strings.Repeat("x", i%200)))
	case 1:
		return perl.String(fmt.Sprintf("text-%d-\u263a", i))
	case 2:
		return perl.Int(int64(i)*7919 - 1<<40)
	case 3:
		return perl.Uint(math.MaxUint64 - uint64(i))
	case 4:
		return perl.Float(float64(i) + 0.25)
	}
	return perl.Ref{To: &perl.Scalar{Value: perl.Int(int64(i))}, Weak: i%4 == 1}
}

// box boxes v (made by scalarOf) with a, copying strings into a's arena.
func box(a *Allocator, v perl.Value) perl.Value {
	switch x := v.(type) {
	case perl.Bytes:
		return a.Bytes(a.Copy(x))
	case perl.String:
		return a.String(a.CopyString([]byte(x)))
	case perl.Int:
		return a.Int(int64(x))
	case perl.Uint:
		return a.Uint(uint64(x))
	case perl.Float:
		return a.Float(float64(x))
	case perl.Ref:
		return a.Ref(x)
	}
	panic(fmt.Sprintf("unexpected %T", v))
}

func same(a, b perl.Value) bool {
	if ra, ok := a.(perl.Ref); ok {
		rb, ok := b.(perl.Ref)
		return ok && ra == rb
	}
	return perl.Equal(a, b)
}

// TestBoxes checks that boxed values are what plain conversions make:
// the same dynamic type and value, through type switches, assertions
// and perl.Equal, and that none of them shares a cell with another.
func TestBoxes(t *testing.T) {
	var a Allocator
	a.Reset(0)
	var want, got []perl.Value
	for i := range 5000 {
		v := scalarOf(i)
		want = append(want, v)
		got = append(got, box(&a, v))
	}
	for i := range want {
		if fmt.Sprintf("%T", got[i]) != fmt.Sprintf("%T", want[i]) || !same(got[i], want[i]) {
			t.Fatalf("value %d: got %#v, want %#v", i, got[i], want[i])
		}
		if got[i].Kind() != want[i].Kind() {
			t.Fatalf("value %d: kind %v, want %v", i, got[i].Kind(), want[i].Kind())
		}
	}
}

func TestSmallValues(t *testing.T) {
	var a Allocator
	for v := int64(-300); v <= 300; v++ {
		if got := a.Int(v); got != perl.Value(perl.Int(v)) {
			t.Fatalf("Int(%d) = %#v", v, got)
		}
	}
	for _, b := range [][]byte{{}, a.Copy(nil), a.Copy([]byte{})} {
		got, ok := a.Bytes(b).(perl.Bytes)
		if !ok || got == nil || len(got) != 0 || cap(got) != 0 {
			t.Fatalf("empty bytes boxed as %#v (cap %d)", got, cap(got))
		}
	}
	if got, ok := a.Bytes(nil).(perl.Bytes); !ok || got != nil {
		t.Fatalf("nil bytes boxed as %#v", got)
	}
}

// TestCopiesApart checks that copies neither share the input nor can
// reach each other: appending to one reallocates.
func TestCopiesApart(t *testing.T) {
	var a Allocator
	a.Reset(0)
	in := []byte("abcdef")
	x, y := a.Copy(in[:3]), a.Copy(in[3:])
	in[0] = 'X'
	if string(x) != "abc" || cap(x) != len(x) || cap(y) != len(y) {
		t.Fatalf("copies %q (cap %d), %q (cap %d)", x, cap(x), y, cap(y))
	}
	x = append(x, 'Z')
	if string(y) != "def" || string(x) != "abcZ" {
		t.Fatalf("append clobbered a neighbour: %q %q", x, y)
	}
	long := bytes.Repeat([]byte("L"), maxArenaString+1)
	if c := a.Copy(long); !bytes.Equal(c, long) || cap(c) < len(c) {
		t.Fatalf("long copy %q", c)
	}
	if s := a.CopyString([]byte("key")); s != "key" {
		t.Fatalf("CopyString: %q", s)
	}
}

// TestContainers checks arrays and hashes: their room, that appending
// beyond it leaves neighbours alone, and the references ArrayRef and
// HashRef return.
func TestContainers(t *testing.T) {
	var a Allocator
	a.Reset(0)
	var arrays []*perl.Array
	var hashes []*perl.Hash
	for i := range 300 {
		n := i % 12
		ra, x := a.ArrayRef(n)
		rh, h := a.HashRef(n)
		if r, ok := ra.(perl.Ref); !ok || r.To != x || r.Weak || r.Overloaded {
			t.Fatalf("ArrayRef(%d) = %#v", n, ra)
		}
		if r, ok := rh.(perl.Ref); !ok || r.To != h {
			t.Fatalf("HashRef(%d) = %#v", n, rh)
		}
		y, g := a.Array(n), a.Hash(n)
		for _, c := range []int{len(x.Elems), len(h.Entries), len(y.Elems), len(g.Entries)} {
			if c != 0 {
				t.Fatalf("container of %d starts with %d elements", n, c)
			}
		}
		if cap(x.Elems) != n || cap(h.Entries) != n || cap(y.Elems) != n || cap(g.Entries) != n {
			t.Fatalf("room for %d: %d %d %d %d", n, cap(x.Elems), cap(h.Entries), cap(y.Elems), cap(g.Entries))
		}
		for j := range n + 1 { // one more than there is room for
			x.Elems = append(x.Elems, perl.Int(int64(i)))
			y.Elems = append(y.Elems, perl.Int(int64(i)))
			h.Entries = append(h.Entries, perl.HashEntry{Key: fmt.Sprint(j), Value: perl.Int(int64(i))})
			g.Entries = append(g.Entries, perl.HashEntry{Key: fmt.Sprint(j), Value: perl.Int(int64(i))})
		}
		arrays = append(arrays, x, y)
		hashes = append(hashes, h, g)
	}
	for k, x := range arrays {
		for _, e := range x.Elems {
			if e != perl.Value(perl.Int(int64(k/2))) {
				t.Fatalf("array %d clobbered: %v", k, x.Elems)
			}
		}
	}
	for k, h := range hashes {
		for j, e := range h.Entries {
			if e.Key != fmt.Sprint(j) || e.Value != perl.Value(perl.Int(int64(k/2))) {
				t.Fatalf("hash %d clobbered: %v", k, h.Entries)
			}
		}
	}
}

// TestLargeRun checks that a large array gets memory of its own.
func TestLargeRun(t *testing.T) {
	var a Allocator
	x := a.Array(100000)
	if cap(x.Elems) != 100000 {
		t.Fatalf("room for %d", cap(x.Elems))
	}
	if a.elems.chunk != nil {
		t.Fatal("a large run went into a chunk")
	}
}

// TestBlockSizes checks that blocks and chunks stay within their limits,
// which bound the memory one kept value can keep alive, and that a small
// document gets a small block.
func TestBlockSizes(t *testing.T) {
	var a Allocator
	a.Reset(40)
	a.Copy([]byte("0123456789"))
	if len(a.block) > 48 {
		t.Errorf("a document of 40 bytes got a block of %d", len(a.block))
	}
	a.Reset(0)
	for i := range 100000 {
		a.Bytes(a.Copy([]byte("abcdefgh")))
		a.Ref(perl.Ref{To: &perl.Scalar{}})
		a.Float(float64(i))
		a.Hash(7)
		if len(a.block) > maxBlock {
			t.Fatalf("block of %d bytes", len(a.block))
		}
		if n := len(a.refBox.chunk) * int(unsafe.Sizeof(perl.Ref{})); n > maxChunk {
			t.Fatalf("chunk of %d bytes", n)
		}
		if n := len(a.entries.chunk) * int(unsafe.Sizeof(perl.HashEntry{})); n > maxChunk {
			t.Fatalf("chunk of %d bytes", n)
		}
	}
}

// doc is what a test keeps of one document.
type doc struct {
	want []perl.Value // made by plain conversions
	got  []perl.Value // boxed by an Allocator
}

// churn allocates and drops memory of several shapes, so that memory the
// collector frees (wrongly, if boxes did not keep their chunks alive) is
// handed out again and overwritten.
func churn(rng *rand.Rand) {
	var keep [][]byte
	for range 2000 {
		b := make([]byte, 8+rng.IntN(300))
		for i := range b {
			b[i] = 0xa5
		}
		keep = append(keep, b)
		_ = make([]perl.Value, 16)
		_ = make([]perl.HashEntry, 8)
	}
	runtime.KeepAlive(keep)
}

// TestSurvivesGC boxes the values of many documents with one Allocator
// (reset between documents, as a decoder does), keeps a few values of
// each, drops the rest, and checks after collections and churn that the
// kept values are intact: a box keeps its chunk, and what the chunk
// refers to, alive.
func TestSurvivesGC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a Allocator
	var kept []doc
	for d := range 200 {
		a.Reset(rng.IntN(4000))
		var k doc
		for i := range 500 + rng.IntN(500) {
			v := scalarOf(d*1000 + i)
			b := box(&a, v)
			if rng.IntN(50) == 0 {
				k.want, k.got = append(k.want, v), append(k.got, b)
			}
		}
		kept = append(kept, k)
		if d%20 == 0 {
			runtime.GC()
			churn(rng)
		}
	}
	a.Reset(0)
	for range 3 {
		runtime.GC()
		churn(rng)
	}
	for d, k := range kept {
		for i := range k.want {
			if !same(k.got[i], k.want[i]) {
				t.Fatalf("document %d, value %d: %#v, want %#v", d, i, k.got[i], k.want[i])
			}
		}
	}
}

// TestSurvivesGCChecked runs TestSurvivesGC and TestConcurrent in a child
// process with the collector's own checks on: a second mark pass that
// panics on any reachable object the concurrent mark missed, and freed
// memory overwritten with garbage.
func TestSurvivesGCChecked(t *testing.T) {
	if os.Getenv("PERLMEM_CHILD") != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("runs the tests again in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^(TestSurvivesGC|TestConcurrent)$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "PERLMEM_CHILD=1", "GODEBUG=gccheckmark=1,clobberfree=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("PASS")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestConcurrent decodes on several goroutines, each with an Allocator of
// its own, and hands the values to another goroutine, while a third
// keeps the collector busy: under the race detector it shows that
// handing values over needs nothing but the usual synchronisation.
func TestConcurrent(t *testing.T) {
	const workers, docs = 4, 50
	out := make(chan doc, workers)
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var a Allocator
			for d := range docs {
				a.Reset(1000)
				var k doc
				for i := range 300 {
					v := scalarOf(w*1e6 + d*1000 + i)
					k.want, k.got = append(k.want, v), append(k.got, box(&a, v))
				}
				out <- k
			}
		})
	}
	go func() { wg.Wait(); close(out) }()
	n := 0
	for k := range out {
		for i := range k.want {
			if !same(k.got[i], k.want[i]) {
				t.Errorf("value %d: %#v, want %#v", i, k.got[i], k.want[i])
			}
		}
		n++
	}
	close(stop)
	gcs.Wait()
	if n != workers*docs {
		t.Fatalf("%d documents", n)
	}
}
