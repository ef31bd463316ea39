package conn

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/storable"
)

// storableWire is the Storable wire: op:u16 | len:u32 | nfreeze(\@args).
type storableWire struct {
	opts     Options
	enc      storable.EncMode
	dec      storable.DecMode // copies strings
	decAlias storable.DecMode // shares the frame's memory
}

const storableHeaderLen = 6

func newStorableWire(o Options) (*storableWire, error) {
	w := &storableWire{opts: o}
	var err error
	if w.enc, err = (storable.EncOptions{Canonical: o.SortKeys}).EncMode(); err != nil {
		return nil, err
	}
	dopts := storable.DecOptions{MaxSize: o.MaxFrameSize}
	if w.dec, err = dopts.DecMode(); err != nil {
		return nil, err
	}
	dopts.AliasInput = true
	if w.decAlias, err = dopts.DecMode(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *storableWire) Format() Format   { return Storable }
func (w *storableWire) Options() Options { return w.opts }

func (w *storableWire) NewReader(r io.Reader) *Reader { return newReader(w, r) }

func (w *storableWire) byteOrder() binary.ByteOrder {
	if w.opts.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Append implements Wire.
func (w *storableWire) Append(dst []byte, m Message) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0)
	var err error
	ok := false
	switch m := m.(type) {
	case *Data:
		dst, ok = storablePlain.data(appendStorableHead(dst, 5), m), true
	case *Result:
		dst, ok = storablePlain.result(appendStorableHead(dst, 2+len(m.Result.Args)), m)
	}
	if !ok {
		dst, err = w.enc.AppendValue(dst[:start+storableHeaderLen], &perl.Array{Elems: Args(m)})
	}
	return w.finish(dst, start, m.Op(), err)
}

// appendGeneral writes any message through the Storable encoder.
func (w *storableWire) appendGeneral(dst []byte, m Message) ([]byte, error) {
	start := len(dst)
	dst, err := w.enc.AppendValue(append(dst, 0, 0, 0, 0, 0, 0), &perl.Array{Elems: Args(m)})
	return w.finish(dst, start, m.Op(), err)
}

// finish checks the frame that starts at start and writes its header.
func (w *storableWire) finish(dst []byte, start int, op Op, err error) ([]byte, error) {
	if err == nil && len(dst)-start-storableHeaderLen > maxStorablePayload {
		return dst[:start], &LimitError{Offset: -1, Op: op, Limit: "the Storable length field", Max: maxStorablePayload, Got: int64(len(dst) - start - storableHeaderLen)}
	}
	if err == nil && (op < 0 || op > math.MaxUint16) {
		err = &ArgError{Offset: -1, Op: op, Arg: -1, Msg: "op does not fit the Storable frame header (16 bits)"}
	}
	if dst, err = appendChecked(dst, start, op, w.opts.MaxFrameSize, err); err != nil {
		return dst, err
	}
	bo := w.byteOrder()
	bo.PutUint16(dst[start:], uint16(op))
	bo.PutUint32(dst[start+2:], uint32(len(dst)-start-storableHeaderLen))
	return dst, nil
}

// Storable opcodes the fast paths read and write.
const (
	sxLScalar  = 0x01 // byte string, u32 length
	sxArray    = 0x02 // array, u32 count
	sxUndef    = 0x05 // undef
	sxByte     = 0x08 // integer -128..127 as value+128
	sxNetint   = 0x09 // integer, i32 big-endian
	sxScalar   = 0x0a // byte string, u8 length
	sxUTF8Str  = 0x17 // UTF-8 string, u8 length
	sxLUTF8Str = 0x18 // UTF-8 string, u32 length

	storableMagicNet = 0x05 // (major 2 << 1) | netorder
	storableMinor    = 0x0b // binary minor 11 (Storable 3.x)
)

// storablePlain writes the plain scalars of the Storable fast paths.
var storablePlain = plainEncoder{int: appendStorableInt, last: appendStorableInt, strHead: appendStorableStringHead, undef: sxUndef}

// appendStorableHead appends the nfreeze header and the root array's
// opcode with n elements.
func appendStorableHead(dst []byte, n int) []byte {
	return append(dst, storableMagicNet, storableMinor, sxArray, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// appendStorableInt writes n as nfreeze does: one byte for -128..127,
// four for 32 bits, else the decimal string.
func appendStorableInt(dst []byte, n int64) []byte {
	switch {
	case n >= -128 && n <= 127:
		return append(dst, sxByte, byte(n+128))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return append(dst, sxNetint, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	dst = append(dst, sxScalar, 0)
	at := len(dst)
	dst = strconv.AppendInt(dst, n, 10)
	dst[at-1] = byte(len(dst) - at)
	return dst
}

// appendStorableStringHead writes the opcode and length of a byte string
// or a UTF-8 string of n bytes.
func appendStorableStringHead(dst []byte, n int, utf8 bool) []byte {
	short, long := byte(sxScalar), byte(sxLScalar)
	if utf8 {
		short, long = sxUTF8Str, sxLUTF8Str
	}
	if n <= math.MaxUint8 {
		return append(dst, short, byte(n))
	}
	return append(dst, long, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// detectOrder tells the byte order of a Storable frame header from its op:
// every op of the protocol is 0x40xx or 0x41xx with a low byte of 1 to 6,
// so only one order gives a known op.
func detectOrder(h []byte) uint8 {
	le := Op(binary.LittleEndian.Uint16(h))
	be := Op(binary.BigEndian.Uint16(h))
	switch {
	case le.Known() && !be.Known():
		return orderLE
	case be.Known() && !le.Known():
		return orderBE
	}
	return 0
}

// header returns the op and payload length of the frame header h, in the
// stream's byte order, recognising it from the first known op.
func (w *storableWire) header(h []byte, st readState) (Op, uint32, readState) {
	order := st.order
	if order == 0 {
		order = detectOrder(h)
		st.order = order
		if order == 0 {
			order = orderLE
			if w.opts.BigEndian {
				order = orderBE
			}
		}
	}
	if order == orderBE {
		return Op(binary.BigEndian.Uint16(h)), binary.BigEndian.Uint32(h[2:]), st
	}
	return Op(binary.LittleEndian.Uint16(h)), binary.LittleEndian.Uint32(h[2:]), st
}

func (w *storableWire) frameLen(buf []byte, off int64, st readState) (int, int, readState, error) {
	if len(buf) < storableHeaderLen {
		return 0, storableHeaderLen, st, nil
	}
	op, n, st := w.header(buf, st)
	size := int64(n) + storableHeaderLen
	if size > int64(w.opts.MaxFrameSize) {
		return 0, 0, st, &LimitError{Offset: off, Op: op, Limit: "MaxFrameSize", Max: int64(w.opts.MaxFrameSize), Got: size}
	}
	if int64(len(buf)) < size {
		return 0, int(size), st, nil
	}
	return int(size), 0, st, nil
}

// Decode implements Wire.
func (w *storableWire) Decode(frame []byte) (Message, error) { return decodeWhole(w, frame, false) }

// DecodeShared implements Wire.
func (w *storableWire) DecodeShared(frame []byte) (Message, error) {
	return decodeWhole(w, frame, true)
}

func (w *storableWire) decode(frame []byte, off int64, owned bool, st readState) (Message, error) {
	op, _, _ := w.header(frame, st)
	payload := frame[storableHeaderLen:]
	switch op {
	case OpData:
		if d, ok := decodeStorableData(payload, owned); ok {
			return d, nil
		}
	case OpResult:
		if r, ok := decodeStorableResult(payload, owned); ok {
			return r, nil
		}
	}
	return w.decodeGeneral(frame, off, owned, st)
}

// decodeGeneral decodes any frame through the Storable decoder.
func (w *storableWire) decodeGeneral(frame []byte, off int64, owned bool, st readState) (Message, error) {
	op, _, _ := w.header(frame, st)
	dec := w.dec
	if owned {
		dec = w.decAlias
	}
	v, err := dec.UnmarshalValue(frame[storableHeaderLen:])
	if err != nil {
		return nil, &PayloadError{Offset: off, Op: op, Msg: "payload is not a Storable image", Err: err}
	}
	a, ok := v.(*perl.Array)
	if !ok || a == nil {
		return nil, &PayloadError{Offset: off, Op: op, Msg: "payload is not an array of arguments but " + describe(v)}
	}
	p := argParser{op: op, args: a.Elems, offset: off}
	m := p.parse()
	return m, p.err
}

func decodeStorableData(p []byte, owned bool) (*Data, bool) {
	s, n := newStorableScanner(p)
	if !s.ok || n != 5 {
		return nil, false
	}
	return s.data(owned)
}

func decodeStorableResult(p []byte, owned bool) (*Result, bool) {
	s, n := newStorableScanner(p)
	if !s.ok || n < 2 || n > maxFastArgs {
		return nil, false
	}
	return s.result(n, owned)
}
