package conn

import (
	"errors"
	"io"
	"strconv"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/sereal"
)

// serealWire is the Sereal wire: one document [op, args...] per RPC.
type serealWire struct {
	opts     Options
	plain    plainEncoder
	enc      sereal.EncMode
	encCtx   sereal.EncMode // new_analyzer: every hash as REFN HASH
	dec      sereal.DecMode
	decAlias sereal.DecMode
}

func newSerealWire(o Options) (*serealWire, error) {
	w := &serealWire{opts: o, plain: serealPlain}
	if o.SerealStringTail {
		w.plain.last = appendSerealTailInt
	}
	eo := sereal.EncOptions{Protocol: o.SerealProtocol}
	if o.SortKeys {
		eo.SortKeys = sereal.SortKeysPerl
	}
	var err error
	if w.enc, err = eo.EncMode(); err != nil {
		return nil, err
	}
	// Net::IMP::Remote's client still holds the context hash and its
	// meta hash when it encodes them, so Perl writes them as REFN HASH.
	eo.CanonicalHashRefs = true
	if w.encCtx, err = eo.EncMode(); err != nil {
		return nil, err
	}
	do := sereal.DecOptions{MaxSize: o.MaxFrameSize}
	if w.dec, err = do.DecMode(); err != nil {
		return nil, err
	}
	do.AliasInput = true
	if w.decAlias, err = do.DecMode(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *serealWire) Format() Format   { return Sereal }
func (w *serealWire) Options() Options { return w.opts }

func (w *serealWire) NewReader(r io.Reader) *Reader { return newReader(w, r) }

// Sereal tags the fast paths read and write.
const (
	srlPosMax     = 0x0f // POS_0..POS_15: 0x00..0x0f
	srlNegMin     = 0x10 // NEG_16..NEG_1: 0x10..0x1f
	srlVarint     = 0x20
	srlZigzag     = 0x21
	srlFloat      = 0x22
	srlDouble     = 0x23
	srlUndef      = 0x25
	srlBinary     = 0x26
	srlStrUTF8    = 0x27
	srlRefN       = 0x28
	srlArray      = 0x2b
	srlArrayRef0  = 0x40 // ARRAYREF_0..ARRAYREF_15
	srlShortBin0  = 0x60 // SHORT_BINARY_0..SHORT_BINARY_31
	srlTrackFlag  = 0x80
	srlMaxShort   = 31
	srlMaxArrayN  = 15
	srlMagic      = "=\xf3rl" // protocol 3 and later
	srlHeaderV3   = 6         // magic, version byte, empty suffix
	srlMinVersion = 3
	srlMaxVersion = 5
)

// serealPlain writes the plain scalars of the Sereal fast paths.
var serealPlain = plainEncoder{int: appendSerealInt, last: appendSerealInt, strHead: appendSerealStringHead, undef: srlUndef}

func appendVarint(dst []byte, u uint64) []byte {
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

// appendSerealHead appends the document header and a reference to an
// array of n elements, as Perl writes [op, args...].
func appendSerealHead(dst []byte, version, n int) []byte {
	dst = append(dst, srlMagic[0], srlMagic[1], srlMagic[2], srlMagic[3], byte(version), 0)
	if n <= srlMaxArrayN {
		return append(dst, byte(srlArrayRef0+n))
	}
	return appendVarint(append(dst, srlRefN, srlArray), uint64(n))
}

func appendSerealInt(dst []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= srlPosMax:
		return append(dst, byte(n))
	case n < 0 && n >= -16:
		return append(dst, byte(0x20+n))
	case n > 0:
		return appendVarint(append(dst, srlVarint), uint64(n))
	}
	return appendVarint(append(dst, srlZigzag), uint64(n<<1)^uint64(n>>63))
}

// appendSerealTailInt writes an integer that ends a document: one outside
// -16..15, which Sereal writes as VARINT or ZIGZAG and a varint, as its
// decimal string instead (see Options.SerealStringTail).
func appendSerealTailInt(dst []byte, n int64) []byte {
	if n >= -16 && n <= srlPosMax {
		return appendSerealInt(dst, n)
	}
	var digits [20]byte // "-9223372036854775808"
	d := strconv.AppendInt(digits[:0], n, 10)
	return append(append(dst, byte(srlShortBin0+len(d))), d...)
}

// appendSerealStringHead writes the tag and length of a byte string or a
// UTF-8 string of n bytes.
func appendSerealStringHead(dst []byte, n int, utf8 bool) []byte {
	switch {
	case utf8:
		return appendVarint(append(dst, srlStrUTF8), uint64(n))
	case n <= srlMaxShort:
		return append(dst, byte(srlShortBin0+n))
	}
	return appendVarint(append(dst, srlBinary), uint64(n))
}

// Append implements Wire.
func (w *serealWire) Append(dst []byte, m Message) ([]byte, error) {
	start := len(dst)
	ok := false
	if w.opts.SerealProtocol >= srlMinVersion {
		switch m := m.(type) {
		case *Data:
			dst = appendSerealHead(dst, w.opts.SerealProtocol, 6)
			dst, ok = w.plain.data(appendSerealInt(dst, int64(OpData)), m), true
		case *Result:
			dst = appendSerealHead(dst, w.opts.SerealProtocol, 3+len(m.Result.Args))
			dst, ok = w.plain.result(appendSerealInt(dst, int64(OpResult)), m)
		}
		if !ok {
			dst = dst[:start]
		}
	}
	if !ok {
		return w.appendGeneral(dst, m)
	}
	return appendChecked(dst, start, m.Op(), w.opts.MaxFrameSize, nil)
}

// appendGeneral writes any message through the Sereal encoder.
func (w *serealWire) appendGeneral(dst []byte, m Message) ([]byte, error) {
	start := len(dst)
	enc := w.enc
	if _, isNew := m.(*NewAnalyzer); isNew {
		enc = w.encCtx
	}
	args := Args(m)
	elems := make([]perl.Value, 0, 1+len(args))
	elems = append(append(elems, perl.Int(m.Op())), args...)
	if w.opts.SerealStringTail {
		// elems is our own: its last element may change, not what it
		// refers to (decimalTail copies that).
		elems[len(elems)-1], _ = decimalTail(elems[len(elems)-1], w.opts.SortKeys, maxTailDepth)
	}
	dst, err := enc.AppendArrayRef(dst, elems...)
	return appendChecked(dst, start, m.Op(), w.opts.MaxFrameSize, err)
}

// simpleLen frames a document of plain scalars: its length, or a lower
// bound of it when b ends before it does; ok is false for any other
// document.
func simpleLen(b []byte) (n, need int, ok bool) {
	s, count := newSerealScanner(b)
	for i := 0; i < count && s.more(); i++ {
		s.skipSereal()
	}
	switch {
	case !s.ok:
		return 0, 0, false
	case s.need > 0:
		return 0, max(s.need, len(b)+1), true
	}
	return s.i, 0, true
}

func (w *serealWire) frameLen(buf []byte, off int64, st readState) (int, int, readState, error) {
	n, need, ok := simpleLen(buf)
	if !ok {
		var err error
		n, err = w.dec.DocumentLength(buf)
		if err == nil && n > 0 {
			// The document's beginning must read as incomplete. It does
			// not when an array or hash announces more elements than
			// the bytes could hold: sereal.DocumentLength then frames
			// the document when it has all of its bytes, but refuses
			// it as too long when it has fewer, so that the framing
			// would depend on how the stream is split.
			if _, perr := w.dec.DocumentLength(buf[:n-1]); !errors.Is(perr, sereal.ErrIncomplete) {
				return 0, 0, st, &FrameError{Offset: off, Msg: "not a Sereal document: it announces more elements than it holds", Err: perr}
			}
		}
		switch {
		case errors.Is(err, sereal.ErrIncomplete):
			need, n = n, 0
		case err != nil:
			var le *sereal.LimitError
			if errors.As(err, &le) && le.Limit == "MaxSize" {
				return 0, 0, st, &LimitError{Offset: off, Limit: "MaxFrameSize", Max: int64(w.opts.MaxFrameSize), Got: le.Got}
			}
			return 0, 0, st, &FrameError{Offset: off, Msg: "not a Sereal document", Err: err}
		}
	}
	if max(n, need) > w.opts.MaxFrameSize {
		return 0, 0, st, &LimitError{Offset: off, Limit: "MaxFrameSize", Max: int64(w.opts.MaxFrameSize), Got: int64(max(n, need))}
	}
	return n, need, st, nil
}

// Decode implements Wire.
func (w *serealWire) Decode(frame []byte) (Message, error) { return decodeWhole(w, frame, false) }

// DecodeShared implements Wire.
func (w *serealWire) DecodeShared(frame []byte) (Message, error) { return decodeWhole(w, frame, true) }

func (w *serealWire) decode(doc []byte, off int64, owned bool, _ readState) (Message, error) {
	if m, _, ok := decodeSerealFast(doc, owned, false); ok {
		return m, nil
	}
	return w.decodeGeneral(doc, off, owned, readState{})
}

// decodeGeneral decodes any document through the Sereal decoder.
func (w *serealWire) decodeGeneral(doc []byte, off int64, owned bool, _ readState) (Message, error) {
	dec := w.dec
	if owned {
		dec = w.decAlias
	}
	v, err := dec.UnmarshalValue(doc)
	if err != nil {
		return nil, &PayloadError{Offset: off, Msg: "not a Sereal document", Err: err}
	}
	a := arrayOf(v)
	if a == nil || len(a.Elems) == 0 {
		return nil, &PayloadError{Offset: off, Msg: "document is not a reference to [op, args...] but " + describe(v)}
	}
	code, ok := imp.ToInt(a.Elems[0])
	if !ok {
		return nil, &PayloadError{Offset: off, Msg: "op is not an integer: " + describe(a.Elems[0])}
	}
	p := argParser{op: Op(code), args: a.Elems[1:], offset: off}
	m := p.parse()
	return m, p.err
}

// decodeSerealFast decodes data and result documents of plain scalars,
// and returns the document's length. With prefix, doc may hold more bytes
// after the document, which frames it in the same pass.
func decodeSerealFast(doc []byte, owned, prefix bool) (m Message, n int, ok bool) {
	s, count := newSerealScanner(doc)
	s.prefix = prefix
	if !s.more() || count < 3 || count > maxFastArgs+1 {
		return nil, 0, false
	}
	switch op := s.next(); {
	case op.kind != skInt:
	case op.n == int64(OpData) && count == 6:
		if d, ok := s.data(owned); ok {
			return d, s.i, true
		}
	case op.n == int64(OpResult):
		if r, ok := s.result(count-1, owned); ok {
			return r, s.i, true
		}
	}
	return nil, 0, false
}

// decodeFrame implements fastDecoder.
func (w *serealWire) decodeFrame(buf []byte, owned bool) (Message, int, bool) {
	if len(buf) > w.opts.MaxFrameSize {
		buf = buf[:w.opts.MaxFrameSize]
	}
	return decodeSerealFast(buf, owned, true)
}
