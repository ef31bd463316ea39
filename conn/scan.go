package conn

import (
	"encoding/binary"
	"math"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// scanner reads the plain scalars of a frame whose arguments are nothing
// else: integers, strings and undef, the shape of data and most result
// frames, on either wire. Anything else makes it fail (ok false), and the
// general decoder takes the frame. On the Sereal wire it also frames
// documents: need is set when the bytes end before the document does.
type scanner struct {
	b      []byte
	i      int
	ok     bool
	need   int
	sereal bool
	// prefix says that the frame may be followed by more bytes: it ends
	// where its last scalar does.
	prefix bool
}

// scalar is a plain scalar read by a fast path.
type scalar struct {
	kind scalarKind
	n    int64  // skInt; skFloat: the float64's bits
	s    []byte // skBytes, skUTF8
}

type scalarKind uint8

const (
	skInt scalarKind = iota
	skBytes
	skUTF8
	skUndef
	skFloat // Sereal only: network-order Storable has no doubles
)

// newStorableScanner checks an nfreeze header and the root array's
// opcode; count is the number of elements.
func newStorableScanner(p []byte) (s scanner, count int) {
	if len(p) < 7 || p[0] != storableMagicNet || p[1] > storableMinor || p[1] < 7 || p[2] != sxArray {
		return s, 0
	}
	n := binary.BigEndian.Uint32(p[3:])
	if uint64(n) > uint64(len(p)-7) {
		return s, 0
	}
	return scanner{b: p, i: 7, ok: true}, int(n)
}

// newSerealScanner reads a raw document header of protocol 3 to 5 and the
// tag of the reference to an array; count is the number of elements.
func newSerealScanner(b []byte) (s scanner, count int) {
	s = scanner{b: b, ok: true, sereal: true}
	if len(b) < 5 {
		s.need = 5
		if string(b) != srlMagic[:len(b)] {
			s.ok = false
		}
		return s, 0
	}
	if v := b[4] & 0x0f; string(b[:4]) != srlMagic || b[4]>>4 != 0 || v < srlMinVersion || v > srlMaxVersion {
		s.ok = false
		return s, 0
	}
	s.i = 5
	suffix := s.varint()
	s.skip(suffix)
	tag := s.u8()
	if !s.more() {
		return s, 0
	}
	switch {
	case tag >= srlArrayRef0 && tag <= srlArrayRef0+srlMaxArrayN:
		count = int(tag - srlArrayRef0)
	case tag == srlRefN:
		if t := s.u8(); s.more() && t != srlArray {
			s.ok = false
		}
		n := s.varint()
		if n > uint64(len(b)) && s.need == 0 {
			s.ok = false // more elements than bytes could hold
		}
		count = int(n)
	default:
		s.ok = false
	}
	return s, count
}

// short notes that n more bytes are needed at the current position.
func (s *scanner) short(n int) {
	if s.need == 0 {
		s.need = s.i + n
	}
}

// more reports whether scanning can go on.
func (s *scanner) more() bool { return s.ok && s.need == 0 }

// complete reports whether the scalars read were the whole frame.
func (s *scanner) complete() bool { return s.more() && (s.prefix || s.i == len(s.b)) }

func (s *scanner) u8() byte {
	if s.i < len(s.b) && s.need == 0 {
		c := s.b[s.i]
		s.i++
		return c
	}
	s.short(1)
	return 0
}

func (s *scanner) u32() uint32 {
	b := s.skip(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (s *scanner) varint() uint64 {
	var u uint64
	for shift := 0; s.more(); shift += 7 {
		if shift > 63 {
			s.ok = false
			return 0
		}
		c := s.u8()
		if !s.more() {
			return 0
		}
		if shift == 63 && c > 1 {
			s.ok = false
			return 0
		}
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return u
		}
	}
	return 0
}

// skip returns the next n bytes, or nil when they are not all there.
func (s *scanner) skip(n uint64) []byte {
	if !s.more() {
		return nil
	}
	if n > uint64(len(s.b)-s.i) {
		if n > math.MaxInt32 {
			s.ok = false
			return nil
		}
		s.short(int(n))
		return nil
	}
	b := s.b[s.i : s.i+int(n)]
	s.i += int(n)
	return b
}

// next reads one plain scalar.
func (s *scanner) next() scalar {
	if s.sereal {
		return s.nextSereal()
	}
	return s.nextStorable()
}

func (s *scanner) nextStorable() scalar {
	switch s.u8() {
	case sxByte:
		return scalar{kind: skInt, n: int64(s.u8()) - 128}
	case sxNetint:
		return scalar{kind: skInt, n: int64(int32(s.u32()))}
	case sxScalar:
		return scalar{kind: skBytes, s: s.skip(uint64(s.u8()))}
	case sxLScalar:
		return scalar{kind: skBytes, s: s.skip(uint64(s.u32()))}
	case sxUTF8Str:
		return scalar{kind: skUTF8, s: s.skip(uint64(s.u8()))}
	case sxLUTF8Str:
		return scalar{kind: skUTF8, s: s.skip(uint64(s.u32()))}
	case sxUndef:
		return scalar{kind: skUndef}
	}
	s.ok = false
	return scalar{}
}

func (s *scanner) nextSereal() scalar {
	tag := s.u8()
	if !s.more() {
		return scalar{}
	}
	switch {
	case tag <= srlPosMax:
		return scalar{kind: skInt, n: int64(tag)}
	case tag < srlVarint:
		return scalar{kind: skInt, n: int64(tag) - 0x20}
	case tag == srlVarint:
		u := s.varint()
		if u > math.MaxInt64 {
			s.ok = false // a Uint: the general decoder reads it
		}
		return scalar{kind: skInt, n: int64(u)}
	case tag == srlZigzag:
		u := s.varint()
		return scalar{kind: skInt, n: int64(u>>1) ^ -int64(u&1)}
	case tag == srlFloat:
		b := s.skip(4)
		if b == nil {
			return scalar{}
		}
		f := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		return scalar{kind: skFloat, n: int64(math.Float64bits(f))}
	case tag == srlDouble:
		b := s.skip(8)
		if b == nil {
			return scalar{}
		}
		return scalar{kind: skFloat, n: int64(binary.LittleEndian.Uint64(b))}
	case tag == srlUndef:
		return scalar{kind: skUndef}
	case tag == srlBinary:
		return scalar{kind: skBytes, s: s.skip(s.varint())}
	case tag == srlStrUTF8:
		return scalar{kind: skUTF8, s: s.skip(s.varint())}
	case tag >= srlShortBin0 && tag <= srlShortBin0+srlMaxShort:
		return scalar{kind: skBytes, s: s.skip(uint64(tag - srlShortBin0))}
	}
	s.ok = false
	return scalar{}
}

// skipSereal steps over one plain scalar, as nextSereal reads it.
func (s *scanner) skipSereal() {
	tag := s.u8()
	switch {
	case !s.more() || tag < srlVarint || tag == srlUndef:
	case tag == srlVarint || tag == srlZigzag:
		s.varint()
	case tag == srlFloat:
		s.skip(4)
	case tag == srlDouble:
		s.skip(8)
	case tag == srlBinary || tag == srlStrUTF8:
		s.skip(s.varint())
	case tag >= srlShortBin0 && tag <= srlShortBin0+srlMaxShort:
		s.skip(uint64(tag - srlShortBin0))
	default:
		s.ok = false
	}
}

// maxFastArgs bounds the results the fast paths decode.
const maxFastArgs = 16

// data reads the five arguments of a data frame, which must end there.
func (s *scanner) data(owned bool) (*Data, bool) {
	var sc [5]scalar
	for i := range sc {
		sc[i] = s.next()
	}
	if !s.complete() {
		return nil, false
	}
	return dataFromScalars(&sc, owned)
}

// result reads a result's id, type and arguments (n values in all),
// which must be the rest of the frame.
func (s *scanner) result(n int, owned bool) (*Result, bool) {
	id, ok1 := s.next().toInt()
	typ, ok2 := s.next().toInt()
	if !ok1 || !ok2 {
		return nil, false
	}
	var r *Result
	if k := n - 2; k <= smallResultArgs {
		sr := new(smallResult)
		r = &sr.r
		if k > 0 {
			r.Result.Args = sr.args[:k:k]
		}
	} else {
		r = &Result{Result: imp.Result{Args: make([]perl.Value, k)}}
	}
	r.ID, r.Result.Type = id, imp.ResultType(typ)
	for i := range r.Result.Args {
		r.Result.Args[i] = s.next().value(owned)
	}
	return r, s.complete()
}

// smallResult is a Result with room for its arguments, so that the
// common results take one allocation (and one more per boxed integer).
type smallResult struct {
	r    Result
	args [smallResultArgs]perl.Value
}

const smallResultArgs = 4

// toInt reads a scalar as an integer the way imp.ToInt does.
func (sc scalar) toInt() (int64, bool) {
	switch sc.kind {
	case skInt:
		return sc.n, true
	case skBytes, skUTF8:
		return imp.ToInt(perl.Bytes(sc.s))
	case skFloat:
		f := math.Float64frombits(uint64(sc.n))
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return int64(f), true
		}
	}
	return 0, false
}

// value returns the scalar as the general decoders return it.
func (sc scalar) value(owned bool) perl.Value {
	switch sc.kind {
	case skInt:
		return perl.Int(sc.n)
	case skBytes:
		return perl.Bytes(own(sc.s, owned))
	case skUTF8:
		return perl.String(sc.s)
	case skFloat:
		return perl.Float(math.Float64frombits(uint64(sc.n)))
	}
	return perl.Undef{}
}

// own returns b, or a copy of it unless the caller owns the memory.
func own(b []byte, owned bool) []byte {
	if owned {
		return b
	}
	// append does not clear the memory it copies into, as make would.
	return append(make([]byte, 0, 0), b...)
}

// dataFromScalars builds a Data message from its five scalars; ok is false
// when one does not fit, and the general path reports the error.
func dataFromScalars(sc *[5]scalar, owned bool) (*Data, bool) {
	id, ok1 := sc[0].toInt()
	dir, ok2 := sc[1].toInt()
	typ, ok3 := sc[3].toInt()
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	var off int64
	if sc[2].kind != skUndef {
		if off, ok1 = sc[2].toInt(); !ok1 {
			return nil, false
		}
	}
	data := sc[4]
	if data.kind != skBytes && data.kind != skUTF8 {
		return nil, false
	}
	d := newData(data.s, owned)
	d.ID, d.Dir, d.Offset, d.UndefOffset, d.Type, d.UTF8 = id, imp.Dir(dir), off, sc[2].kind == skUndef, imp.DataType(typ), data.kind == skUTF8
	return d, true
}

// smallData is a Data message with room for its data, so that a message
// with little data takes one allocation.
type smallData struct {
	d   Data
	buf [smallDataSize]byte
}

const smallDataSize = 128

// newData returns a Data message holding a copy of b (or b itself when
// the caller owns it).
func newData(b []byte, owned bool) *Data {
	if owned || len(b) > smallDataSize {
		return &Data{Data: own(b, owned)}
	}
	p := new(smallData)
	p.d.Data = p.buf[:copy(p.buf[:], b):len(b)]
	return &p.d
}
