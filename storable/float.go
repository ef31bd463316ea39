package storable

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
)

// float converts a native NV of the image's size and order to float64.
func (d *decodeState) float(b []byte) float64 {
	le := d.lay.little
	if len(b) == 8 {
		return math.Float64frombits(d.lay.uint64(b))
	}
	f := d.opts.LongDouble
	if f == LongDoubleAuto {
		f = guessLongDouble(b, le)
	}
	switch f {
	case LongDoubleX87:
		return x87ToFloat64(b, le)
	case LongDoubleDoubleDouble:
		hi := math.Float64frombits(d.lay.uint64(b[:8]))
		lo := math.Float64frombits(d.lay.uint64(b[8:16]))
		return hi + lo // the high part comes first in either order
	}
	return binary128ToFloat64(b, le)
}

// guessLongDouble picks the format of a long double the header does not
// name: 12 bytes are x87; 16 little-endian bytes are x87 when the six
// padding bytes are zero and the explicit integer bit agrees with the
// exponent, else binary128; big-endian 16 bytes are binary128.
func guessLongDouble(b []byte, le bool) LongDouble {
	if len(b) == 12 {
		return LongDoubleX87
	}
	if !le {
		return LongDoubleBinary128
	}
	for _, c := range b[10:] {
		if c != 0 {
			return LongDoubleBinary128
		}
	}
	exp := binary.LittleEndian.Uint16(b[8:10]) & 0x7fff
	intBit := b[7]&0x80 != 0
	if exp != 0 && !intBit {
		return LongDoubleBinary128
	}
	return LongDoubleX87
}

// x87ToFloat64 converts the 80-bit x87 extended format (little-endian
// mantissa then sign and exponent; big-endian the other way round, as on
// the 68k) to the nearest float64.
func x87ToFloat64(b []byte, le bool) float64 {
	var mant uint64
	var se uint16
	if le {
		mant = binary.LittleEndian.Uint64(b[:8])
		se = binary.LittleEndian.Uint16(b[8:10])
	} else {
		se = binary.BigEndian.Uint16(b[:2])
		mant = binary.BigEndian.Uint64(b[len(b)-8:])
	}
	neg := se&0x8000 != 0
	exp := int(se & 0x7fff)
	if exp == 0x7fff {
		if mant<<1 == 0 {
			return math.Inf(sign(neg))
		}
		return math.NaN()
	}
	if exp == 0 {
		exp = 1 // denormal: no implicit bias shift
	}
	m := new(big.Float).SetUint64(mant)
	return toFloat64(m, exp-16383-63, neg)
}

// binary128ToFloat64 converts IEEE 754 binary128 to the nearest float64.
func binary128ToFloat64(b []byte, le bool) float64 {
	var hi, lo uint64
	if le {
		lo, hi = binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:16])
	} else {
		hi, lo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])
	}
	neg := hi>>63 != 0
	exp := int(hi >> 48 & 0x7fff)
	frac := hi & (1<<48 - 1)
	if exp == 0x7fff {
		if frac == 0 && lo == 0 {
			return math.Inf(sign(neg))
		}
		return math.NaN()
	}
	if exp == 0 {
		exp = 1
	} else {
		frac |= 1 << 48
	}
	m := new(big.Int).SetUint64(frac)
	m.Lsh(m, 64).Or(m, new(big.Int).SetUint64(lo))
	return toFloat64(new(big.Float).SetInt(m), exp-16383-112, neg)
}

func toFloat64(m *big.Float, exp int, neg bool) float64 {
	m.SetMantExp(m, exp)
	f, _ := m.Float64()
	if neg {
		f = -f
	}
	return f
}

func sign(neg bool) int {
	if neg {
		return -1
	}
	return 1
}

// appendPerlFloat appends f as Perl 5 prints a number that is not an
// integer: %.15g, with "Inf", "-Inf" and "NaN" for the special values.
func appendPerlFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-Inf"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 15, 64)
}
