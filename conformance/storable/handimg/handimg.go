// Package handimg builds Storable images by hand, byte by byte, as the
// native formats of other machines (big-endian, 32-bit, long doubles) and
// with opcodes that Perl's Storable on the test machine does not write
// (SX_LOBJECT for small sizes, SX_BOOLEAN_TRUE and SX_BOOLEAN_FALSE).
//
// Each Case builds the same logical image for any Machine, so that a test
// can decode the image of another machine and compare the result with
// what Perl (or the decoder) makes of the image of the test machine.
package handimg

import (
	"encoding/binary"
	"math"
	"math/big"
)

// The opcodes the cases use (Storable.xs calls them SX_*).
const (
	Object       = 0
	LScalar      = 1
	Array        = 2
	Hash         = 3
	Ref          = 4
	Undef        = 5
	Integer      = 6
	Double       = 7
	Byte         = 8
	Netint       = 9
	Scalar       = 10
	SvUndef      = 14
	SvYes        = 15
	SvNo         = 16
	Bless        = 17
	IxBless      = 18
	Hook         = 19
	UTF8Str      = 23
	LUTF8Str     = 24
	FlagHash     = 25
	LObject      = 33
	BooleanTrue  = 34
	BooleanFalse = 35
)

// NVFormat is the format of a Perl NV on a machine.
type NVFormat int

// The NV formats.
const (
	Double64  NVFormat = iota // IEEE binary64 (8 bytes)
	X87                       // x86 80-bit extended, padded to NVSize
	Binary128                 // IEEE binary128 (16 bytes)
	DoubleDbl                 // two doubles (PowerPC), 16 bytes
)

// Machine describes how a machine writes native images.
type Machine struct {
	Name      string
	Net       bool // network order (nfreeze): no native sizes
	BigEndian bool
	IVSize    int // 4 or 8: the length of the byte order string
	IntSize   int
	LongSize  int
	PtrSize   int
	NVSize    int
	NV        NVFormat
	Minor     int  // the binary minor in the header (11 when 0)
	File      bool // a file image with the "pst0" magic
	Booleans  bool // write booleans as SX_BOOLEAN_* instead of SX_SV_YES/NO
}

// Host is the native format of an x86_64 Linux Perl without long doubles,
// the machine the test suites compare against.
var Host = Machine{Name: "x86_64", IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 8}

// Others are the native formats of other machines.
var Others = []Machine{
	{Name: "big-endian 64-bit (sparc64)", BigEndian: true, IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 8},
	{Name: "little-endian 32-bit (i386)", IVSize: 4, IntSize: 4, LongSize: 4, PtrSize: 4, NVSize: 8},
	{Name: "big-endian 32-bit (ppc32)", BigEndian: true, IVSize: 4, IntSize: 4, LongSize: 4, PtrSize: 4, NVSize: 8},
	{Name: "64-bit Windows (LLP64)", IVSize: 8, IntSize: 4, LongSize: 4, PtrSize: 8, NVSize: 8},
	{Name: "i386 with long doubles", IVSize: 4, IntSize: 4, LongSize: 4, PtrSize: 4, NVSize: 12, NV: X87},
	{Name: "x86_64 with long doubles", IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 16, NV: X87},
	{Name: "aarch64 with long doubles", IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 16, NV: Binary128},
	{Name: "s390x with long doubles", BigEndian: true, IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 16, NV: Binary128},
	{Name: "x86_64 binary minor 1 (no NV size)", IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 8, Minor: 1},
	{Name: "x86_64 file image", IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 8, File: true},
	{Name: "network order", Net: true},
	{Name: "network order file image of minor 7", Net: true, File: true, Minor: 7},
	{Name: "x86_64 binary minor 12 (booleans)", IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 8, Minor: 12, Booleans: true},
	{Name: "network order, booleans", Net: true, Booleans: true},
}

// Builder appends the parts of an image for one machine.
type Builder struct {
	M   Machine
	buf []byte
}

// New starts an image for m with its header.
func New(m Machine) *Builder {
	b := &Builder{M: m}
	if m.File {
		b.buf = append(b.buf, "pst0"...)
	}
	minor := m.Minor
	if minor == 0 {
		minor = 11
	}
	if m.Net {
		b.buf = append(b.buf, 2<<1|1, byte(minor))
		return b
	}
	order := "12345678"[:m.IVSize]
	if m.BigEndian {
		order = "87654321"[8-m.IVSize:]
	}
	b.buf = append(b.buf, 2<<1, byte(minor), byte(len(order)))
	b.buf = append(b.buf, order...)
	b.buf = append(b.buf, byte(m.IntSize), byte(m.LongSize), byte(m.PtrSize))
	if minor >= 2 {
		b.buf = append(b.buf, byte(m.NVSize))
	}
	return b
}

// Bytes returns the image.
func (b *Builder) Bytes() []byte { return b.buf }

func (b *Builder) order() binary.AppendByteOrder {
	if b.M.Net || b.M.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Op appends raw bytes (opcodes, flags, short lengths).
func (b *Builder) Op(ops ...byte) *Builder {
	b.buf = append(b.buf, ops...)
	return b
}

// Raw appends s as it is.
func (b *Builder) Raw(s string) *Builder {
	b.buf = append(b.buf, s...)
	return b
}

// Len appends a 4-byte length in the machine's order.
func (b *Builder) Len(n int) *Builder {
	b.buf = b.order().AppendUint32(b.buf, uint32(n))
	return b
}

// U64 appends an 8-byte length of SX_LOBJECT in the machine's order.
func (b *Builder) U64(n uint64) *Builder {
	b.buf = b.order().AppendUint64(b.buf, n)
	return b
}

// Tag appends a back-reference, always big-endian.
func (b *Builder) Tag(t uint32) *Builder {
	b.buf = append(b.buf, Object)
	b.buf = binary.BigEndian.AppendUint32(b.buf, t)
	return b
}

// Int appends an integer the way the machine's Storable writes it:
// SX_BYTE, SX_NETINT in network order, SX_INTEGER of the machine's size.
// It panics when the machine cannot hold the value as an integer.
func (b *Builder) Int(i int64) *Builder {
	switch {
	case i >= -128 && i <= 127:
		return b.Op(Byte, byte(i+128))
	case b.M.Net:
		if int64(int32(i)) != i {
			panic("handimg: integer beyond 32 bits in network order")
		}
		b.buf = append(b.buf, Netint)
		b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(i))
	case b.M.IVSize == 4:
		if int64(int32(i)) != i {
			panic("handimg: integer beyond 32 bits on a 32-bit machine")
		}
		b.buf = append(b.buf, Integer)
		b.buf = b.order().AppendUint32(b.buf, uint32(i))
	default:
		b.buf = append(b.buf, Integer)
		b.buf = b.order().AppendUint64(b.buf, uint64(i))
	}
	return b
}

// NV appends SX_DOUBLE with f in the machine's NV format. It panics in
// network order, which has no doubles.
func (b *Builder) NV(f float64) *Builder {
	if b.M.Net {
		panic("handimg: no SX_DOUBLE in network order")
	}
	b.buf = append(b.buf, Double)
	b.buf = append(b.buf, EncodeNV(f, b.M)...)
	return b
}

// Str appends a byte string (SX_SCALAR or SX_LSCALAR).
func (b *Builder) Str(s string) *Builder { return b.str(s, Scalar, LScalar) }

// UTF8 appends a UTF-8 string (SX_UTF8STR or SX_LUTF8STR).
func (b *Builder) UTF8(s string) *Builder { return b.str(s, UTF8Str, LUTF8Str) }

func (b *Builder) str(s string, short, long byte) *Builder {
	if len(s) <= 255 {
		b.Op(short, byte(len(s)))
	} else {
		b.Op(long).Len(len(s))
	}
	return b.Raw(s)
}

// Key appends a hash key of a plain hash (length, bytes).
func (b *Builder) Key(k string) *Builder { return b.Len(len(k)).Raw(k) }

// Bool appends a boolean: SX_BOOLEAN_* on machines that write them,
// else the immortals SX_SV_YES and SX_SV_NO.
func (b *Builder) Bool(v bool) *Builder {
	switch {
	case b.M.Booleans && v:
		return b.Op(BooleanTrue)
	case b.M.Booleans:
		return b.Op(BooleanFalse)
	case v:
		return b.Op(SvYes)
	}
	return b.Op(SvNo)
}

// EncodeNV returns f in the NV format and byte order of m.
func EncodeNV(f float64, m Machine) []byte {
	out := make([]byte, m.NVSize)
	switch m.NV {
	case X87:
		mant, exp := x87Parts(f)
		binary.LittleEndian.PutUint64(out, mant)
		binary.LittleEndian.PutUint16(out[8:], exp)
	case Binary128:
		hi, lo := binary128Parts(f)
		if m.BigEndian {
			binary.BigEndian.PutUint64(out, hi)
			binary.BigEndian.PutUint64(out[8:], lo)
		} else {
			binary.LittleEndian.PutUint64(out, lo)
			binary.LittleEndian.PutUint64(out[8:], hi)
		}
	case DoubleDbl:
		ord := binary.ByteOrder(binary.LittleEndian)
		if m.BigEndian {
			ord = binary.BigEndian
		}
		ord.PutUint64(out, math.Float64bits(f))
		ord.PutUint64(out[8:], 0)
	default:
		if m.BigEndian {
			binary.BigEndian.PutUint64(out, math.Float64bits(f))
		} else {
			binary.LittleEndian.PutUint64(out, math.Float64bits(f))
		}
	}
	return out
}

// x87Parts returns the explicit 64-bit mantissa and the sign and
// exponent of f in x87 extended precision (which holds every float64).
func x87Parts(f float64) (uint64, uint16) {
	var sign uint16
	if math.Signbit(f) {
		sign = 0x8000
	}
	switch {
	case math.IsNaN(f):
		return 0xC000000000000000, 0x7fff
	case math.IsInf(f, 0):
		return 1 << 63, sign | 0x7fff
	case f == 0:
		return 0, sign
	}
	frac, exp := math.Frexp(math.Abs(f)) // f = frac * 2**exp, frac in [0.5, 1)
	mant := uint64(frac * (1 << 64))     // exact: frac has 53 bits
	return mant, sign | uint16(exp-1+16383)
}

// binary128Parts returns the high and low 64 bits of f in IEEE binary128.
func binary128Parts(f float64) (hi, lo uint64) {
	var sign uint64
	if math.Signbit(f) {
		sign = 1 << 63
	}
	switch {
	case math.IsNaN(f):
		return 0x7fff800000000000, 0
	case math.IsInf(f, 0):
		return sign | 0x7fff000000000000, 0
	case f == 0:
		return sign, 0
	}
	frac, exp := math.Frexp(math.Abs(f))
	// 112 fraction bits after the implicit 1.
	m := new(big.Float).SetFloat64(frac)
	m.SetMantExp(m, 113)
	mi, _ := m.Int(nil)
	mi.SetBit(mi, 112, 0)
	lo = mi.Uint64()
	hi = new(big.Int).Rsh(mi, 64).Uint64()
	return sign | uint64(exp-1+16383)<<48 | hi, lo
}
