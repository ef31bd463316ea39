package storable

import (
	"encoding/binary"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// The cases of perl-fixtures/storable-bench.pl, built the same way, so
// that docs/benchmarks.md can set Go's numbers against Perl's.

// dataRPC returns the arguments of an IMP data RPC (analyzer id, dir,
// offset, data type, data) with n bytes of data.
func dataRPC(n int) *perl.Array {
	return perl.NewArray(perl.Int(7), perl.Int(0), perl.Int(123456), perl.Int(-1), perl.Bytes(strings.Repeat("x", n)))
}

// contextHash returns a new_analyzer context of six keys.
func contextHash() *perl.Hash {
	h := perl.NewHash(6)
	h.Set("caddr", perl.Bytes("192.0.2.10"))
	h.Set("cport", perl.Int(40001))
	h.Set("laddr", perl.Bytes("192.0.2.1"))
	h.Set("lport", perl.Bytes("3000"))
	h.Set("daddr", perl.Bytes("198.51.100.7"))
	h.Set("dport", perl.Int(80))
	return h
}

// nested returns about 1 MB (frozen) of records: an array of hashes with
// strings, integers, doubles, an array and a nested hash each.
func nested() *perl.Array {
	const n = 6000
	a := &perl.Array{Elems: make([]perl.Value, n)}
	for i := range n {
		s := strconv.Itoa(i)
		h := perl.NewHash(8)
		h.Set("id", perl.Int(i))
		h.Set("name", perl.Bytes("user"+s))
		h.Set("email", perl.Bytes("user"+s+"@example.com"))
		h.Set("score", perl.Float(float64(i)*1.5+0.25))
		h.Set("active", perl.Int(i%2))
		h.Set("tags", perl.ArrayRef(perl.Bytes("a"+s), perl.Bytes("b"), perl.Bytes("c")))
		in := perl.NewHash(2)
		in.Set("x", perl.Int(i*1000))
		in.Set("y", perl.Bytes(strings.Repeat("y", 20)))
		h.Set("nested", perl.HashRef(in))
		a.Elems[i] = perl.HashRef(h)
	}
	return a
}

// reportCPU starts measuring the process's CPU time; the function it
// returns reports it per operation as the metric cpu-ns/op, which other
// load on the machine inflates less than ns/op.
func reportCPU(b *testing.B) func() {
	start, ok := cpuTime()
	return func() {
		if end, ok2 := cpuTime(); ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

type benchCase struct {
	name  string
	value perl.Value
	frame bool // an IMP RPC: add and strip the 6-byte frame header, as Perl's pack/unpack does
}

func benchCases() []benchCase {
	return append(rpcCases(), benchCase{"context_6keys", contextHash(), false}, benchCase{"nested_1MB", nested(), false})
}

// rpcCases returns the data RPC cases.
func rpcCases() []benchCase {
	return []benchCase{
		{"data_64B", dataRPC(64), true},
		{"data_1KiB", dataRPC(1 << 10), true},
		{"data_16KiB", dataRPC(16 << 10), true},
		{"data_256KiB", dataRPC(256 << 10), true},
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			buf, err := defaultEncMode.AppendValue(nil, c.value)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				buf = buf[:0]
				if c.frame {
					buf = append(buf, 0x05, 0x40, 0, 0, 0, 0)
				}
				if buf, err = defaultEncMode.AppendValue(buf, c.value); err != nil {
					b.Fatal(err)
				}
				if c.frame {
					binary.LittleEndian.PutUint32(buf[2:], uint32(len(buf)-6))
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) { benchDecode(b, defaultDecMode, false) }

// BenchmarkDecodeAlias decodes the RPC cases with DecOptions.AliasInput:
// the data shares the frame's memory instead of being copied.
func BenchmarkDecodeAlias(b *testing.B) {
	m, err := DecOptions{AliasInput: true}.DecMode()
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, m, true)
}

// BenchmarkDecodeLeanHeap decodes the RPC cases as BenchmarkDecode does,
// but with nothing else alive. BenchmarkDecode keeps the values of all
// cases alive while it runs each, the 5 MB of Go values of the 1 MB
// structure among them, and the garbage collector marks them in every
// cycle: the decoder's allocations pay for that in proportion to their
// size. A program that holds less pointer-rich data pays less.
func BenchmarkDecodeLeanHeap(b *testing.B) {
	cases := rpcCases()
	runtime.GC()
	for _, c := range cases {
		decodeCase(b, defaultDecMode, c)
	}
}

// benchDecode runs decodeCase on every case (only the RPCs with rpcOnly),
// with the values of all cases alive.
func benchDecode(b *testing.B, m DecMode, rpcOnly bool) {
	for _, c := range benchCases() {
		if rpcOnly && !c.frame {
			continue
		}
		decodeCase(b, m, c)
	}
}

// decodeCase measures decoding the image of c as a sub-benchmark.
func decodeCase(b *testing.B, m DecMode, c benchCase) {
	b.Run(c.name, func(b *testing.B) {
		img, err := MarshalValue(c.value)
		if err != nil {
			b.Fatal(err)
		}
		if c.frame {
			img = append(binary.LittleEndian.AppendUint32([]byte{0x05, 0x40}, uint32(len(img))), img...)
		}
		b.SetBytes(int64(len(img)))
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			data := img
			if c.frame {
				n := binary.LittleEndian.Uint32(data[2:])
				data = data[6 : 6+n]
			}
			if _, err := m.UnmarshalValue(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
