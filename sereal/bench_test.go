package sereal

import (
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// The benchmark cases, the same as perl-fixtures/sereal-bench.pl measures
// with Perl's Sereal::Encoder and Sereal::Decoder (XS): a data RPC of
// Net::IMP::Remote, [op, id, dir, offset, type, data], with 64 B, 1 KiB,
// 16 KiB and 256 KiB of data, and a nested structure of about 1 MB.
// Documents are written with protocol 5, as Perl's defaults do.

type benchCase struct {
	name string
	rpc  []perl.Value // the elements of an RPC, or nil
	v    perl.Value   // else the value
}

func benchCases() []benchCase {
	return append(rpcCases(), benchCase{name: "nested_1MB", v: benchNested()})
}

// rpcCases returns the RPC cases.
func rpcCases() []benchCase {
	var cs []benchCase
	for _, n := range []int{64, 1 << 10, 16 << 10, 256 << 10} {
		name := strconv.Itoa(n) + "B"
		if n >= 1<<10 {
			name = strconv.Itoa(n>>10) + "KiB"
		}
		cs = append(cs, benchCase{name: "rpc_" + name, rpc: benchRPC(n)})
	}
	return cs
}

// benchRPC returns the elements of a data RPC with n bytes of data.
func benchRPC(n int) []perl.Value {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return []perl.Value{perl.Int(0x4005), perl.Int(1234), perl.Int(0), perl.Int(0), perl.Int(-1), perl.Bytes(data)}
}

// benchNested returns the nested structure: what nested() in
// perl-fixtures/sereal-bench.pl builds.
func benchNested() perl.Value {
	const n = 8300
	items := make([]perl.Value, 0, n)
	for i := 1; i <= n; i++ {
		children := make([]perl.Value, 0, 3)
		for c := 1; c <= 3; c++ {
			ch := perl.NewHash(2)
			ch.Set("key", perl.Bytes("child-"+strconv.Itoa(c)))
			ch.Set("value", perl.Int(int64(i*c)))
			children = append(children, perl.HashRef(ch))
		}
		h := perl.NewHash(6)
		h.Set("id", perl.Int(int64(i)))
		h.Set("name", perl.Bytes("item number "+strconv.Itoa(i)))
		h.Set("score", perl.Float(float64(i)*0.25+0.1))
		h.Set("active", perl.Int(int64(i%2)))
		h.Set("tags", perl.ArrayRef(perl.Bytes("alpha"), perl.Bytes(strings.Repeat("b", i%23)), perl.Bytes("gr\xfc\xdfe")))
		h.Set("children", perl.ArrayRef(children...))
		items = append(items, perl.HashRef(h))
	}
	return perl.ArrayRef(items...)
}

var benchMode = func() EncMode {
	m, err := EncOptions{Protocol: 5}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// appendCase appends the document of c, as the wire layer would: an RPC
// with AppendArrayRef, a value with AppendValue.
func appendCase(dst []byte, c benchCase) ([]byte, error) {
	if c.rpc != nil {
		return benchMode.AppendArrayRef(dst, c.rpc...)
	}
	return benchMode.AppendValue(dst, c.v)
}

// cpuNanos returns the CPU time (user and system) the process has used.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// run runs op b.N times and reports, besides the usual numbers, the CPU
// time per operation as cpu-ns/op, which a shared machine's other load
// disturbs less than wall time (Perl's side measures the same).
func run(b *testing.B, bytes int, op func() error) {
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	start := cpuNanos()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			buf, err := appendCase(nil, c)
			if err != nil {
				b.Fatal(err)
			}
			run(b, len(buf), func() error {
				buf, err = appendCase(buf[:0], c)
				return err
			})
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	benchDecode(b, defaultDecMode)
}

// BenchmarkDecodeAlias decodes with DecOptions.AliasInput: byte strings
// share the document's memory.
func BenchmarkDecodeAlias(b *testing.B) {
	m, err := DecOptions{AliasInput: true}.DecMode()
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, m)
}

func benchDecode(b *testing.B, m DecMode) {
	forCases(b, false, func(b *testing.B, doc []byte) error {
		_, err := m.UnmarshalValue(doc)
		return err
	})
}

// BenchmarkDecodeLeanHeap decodes the RPCs as BenchmarkDecode does, but
// with nothing else alive. BenchmarkDecode keeps the values of all cases
// alive while it runs each, the 11 MB of Go values of the 1 MB structure
// among them, and the garbage collector marks them in every cycle: the
// decoder's allocations pay for that in proportion to their size. A
// program that holds less pointer-rich data pays less.
func BenchmarkDecodeLeanHeap(b *testing.B) {
	cases := rpcCases()
	runtime.GC()
	for _, c := range cases {
		runCase(b, c, func(b *testing.B, doc []byte) error {
			_, err := UnmarshalValue(doc)
			return err
		})
	}
}

// BenchmarkDecodeArrayRef decodes the RPCs as a reader of RPCs does: the
// elements into a reused slice (UnmarshalArrayRef), byte strings sharing
// the frame's memory (AliasInput).
func BenchmarkDecodeArrayRef(b *testing.B) {
	m, err := DecOptions{AliasInput: true}.DecMode()
	if err != nil {
		b.Fatal(err)
	}
	var dst []perl.Value
	forCases(b, true, func(b *testing.B, doc []byte) error {
		dst, err = m.UnmarshalArrayRef(doc, dst[:0])
		return err
	})
}

// BenchmarkDocumentLength measures framing: finding where a document ends
// in a buffer, as a frame reader does.
func BenchmarkDocumentLength(b *testing.B) {
	forCases(b, false, func(b *testing.B, doc []byte) error {
		_, err := DocumentLength(doc)
		return err
	})
}

// forCases runs op on the document of every case (only the RPCs with
// rpcOnly) as a sub-benchmark, with the values of all cases alive.
func forCases(b *testing.B, rpcOnly bool, op func(b *testing.B, doc []byte) error) {
	for _, c := range benchCases() {
		if rpcOnly && c.rpc == nil {
			continue
		}
		runCase(b, c, op)
	}
}

// runCase runs op on the document of c as a sub-benchmark.
func runCase(b *testing.B, c benchCase, op func(b *testing.B, doc []byte) error) {
	b.Run(c.name, func(b *testing.B) {
		doc, err := appendCase(nil, c)
		if err != nil {
			b.Fatal(err)
		}
		run(b, len(doc), func() error { return op(b, doc) })
	})
}

// TestBenchNestedSize keeps the nested benchmark structure near 1 MB.
func TestBenchNestedSize(t *testing.T) {
	doc, err := benchMode.MarshalValue(benchNested())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) < 900<<10 || len(doc) > 1100<<10 {
		t.Errorf("nested benchmark document is %d bytes", len(doc))
	}
}
