package storable

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
	"sync"

	"github.com/goimp/imprpc/internal/hashkey"
	"github.com/goimp/imprpc/internal/perlmem"
	"github.com/goimp/imprpc/perl"
)

// ctxKind says where a value is decoded.
type ctxKind uint8

const (
	ctxPlain ctxKind = iota // the root, a hash value
	ctxElem                 // an array element: SX_SV_UNDEF is a missing element
	ctxRef                  // the target of a reference: scalars get an identity
)

// seenEntry is one object of the image, in the order Storable numbers them
// (its tag). A value with an identity of its own is d.refs[ref]; a plain
// scalar is found through its owner (the array or hash d.refs[owner], or
// the root when owner is -1) and its index there, so that a later
// back-reference can give it one. Entries hold no pointers, which keeps
// them out of the garbage collector's way.
type seenEntry struct {
	ref   int32
	owner int32
	idx   int
}

type decodeState struct {
	data   []byte
	off    int
	lay    layout
	opts   *DecOptions
	r      io.Reader // stream mode: read more as needed, never past the image
	alias  bool
	seen   []seenEntry
	refs   []perl.Referent // the values with an identity (see seenEntry)
	class  []string
	root   perl.Value
	header Header
	nkeys  int // hash keys read so far
	// keyCache holds hash keys for reuse (see keyString).
	keyCache     [256]string
	keyCacheUsed bool
	mem          perlmem.Allocator // the memory of this image's values
}

var decodePool = sync.Pool{New: func() any { return new(decodeState) }}

func (m *decMode) newState(data []byte, r io.Reader) *decodeState {
	d := decodePool.Get().(*decodeState)
	d.data, d.off, d.opts, d.r = data, 0, &m.opts, r
	d.alias = m.opts.AliasInput && r == nil
	if d.alias || r != nil {
		d.mem.Reset(0) // no copies, or the size is not known
	} else {
		d.mem.Reset(len(data))
	}
	return d
}

func (d *decodeState) release() {
	clear(d.refs)
	clear(d.class)
	d.seen, d.refs, d.class = d.seen[:0], d.refs[:0], d.class[:0]
	d.data, d.r, d.root = nil, nil, nil
	d.mem.Reset(0)
	if d.keyCacheUsed {
		clear(d.keyCache[:])
		d.keyCacheUsed = false
	}
	d.nkeys = 0
	decodePool.Put(d)
}

// Unmarshal decodes the Storable image in data and stores the result in
// the value pointed to by v (see the package documentation for the
// mapping). The image may be an in-memory image (freeze, nfreeze) or a file
// image (store, nstore). It uses the default DecOptions.
func Unmarshal(data []byte, v any) error { return defaultDecMode.Unmarshal(data, v) }

// UnmarshalValue decodes the Storable image in data into a perl.Value with
// the default DecOptions.
func UnmarshalValue(data []byte) (perl.Value, error) { return defaultDecMode.UnmarshalValue(data) }

func (m *decMode) UnmarshalValue(data []byte) (perl.Value, error) {
	if len(data) > m.opts.MaxSize {
		return nil, &LimitError{Offset: 0, Limit: "MaxSize", Max: int64(m.opts.MaxSize), Got: int64(len(data))}
	}
	d := m.newState(data, nil)
	defer d.release()
	if err := d.image(); err != nil {
		return nil, err
	}
	if d.off != len(d.data) && !m.opts.AllowTrailingData {
		return nil, &SyntaxError{Offset: int64(d.off), Op: noOp,
			Msg: strconv.Itoa(len(d.data)-d.off) + " bytes after the end of the image"}
	}
	return d.root, nil
}

// image decodes the header and the root value.
func (d *decodeState) image() error {
	if err := d.readHeader(); err != nil {
		return err
	}
	return d.value(nil, ctxPlain, "", 0)
}

func (d *decodeState) readHeader() error {
	if d.r == nil && len(d.data) >= 2 && d.data[0] == majorVersion<<1|1 {
		// nfreeze's header: nothing but the version.
		d.lay = layout{net: true, order: binary.BigEndian, ivSize: 8, nvSize: 8, minor: int(d.data[1])}
		d.off = 2
		return nil
	}
	if d.r != nil {
		if err := d.streamHeader(); err != nil {
			return err
		}
	}
	h, l, err := parseHeader(d.data)
	if err != nil {
		return err
	}
	d.header, d.lay, d.off = h, l, h.Len
	return nil
}

// streamHeader reads exactly the bytes of the header.
func (d *decodeState) streamHeader() error {
	if err := d.need(1, noOp); err != nil {
		return err
	}
	off := 0
	if d.data[0] == fileMagic[0] {
		if err := d.need(len(fileMagic), noOp); err != nil {
			return err
		}
		off = len(fileMagic)
	}
	d.off = off
	if err := d.need(2, noOp); err != nil {
		return err
	}
	if d.data[off]&1 == 0 && d.data[off]>>1 == majorVersion {
		d.off = off + 2
		if err := d.need(1, noOp); err != nil {
			return err
		}
		n := int(d.data[off+2])
		sizes := 3
		if d.data[off+1] >= 2 {
			sizes = 4
		}
		d.off = off + 3
		if err := d.need(n+sizes, noOp); err != nil {
			return err
		}
	}
	d.off = 0
	return nil
}

// need makes sure that n bytes follow the current offset.
func (d *decodeState) need(n int, op int) error {
	if len(d.data)-d.off >= n {
		return nil
	}
	if d.r == nil {
		return d.eof(n, op)
	}
	return d.fill(n, op)
}

func (d *decodeState) eof(n int, op int) error {
	return &SyntaxError{Offset: int64(len(d.data)), Op: op, eof: true,
		Msg: "image ends early (" + strconv.Itoa(n-(len(d.data)-d.off)) + " more bytes needed)"}
}

// fill reads from the stream until n bytes follow the current offset. It
// grows the buffer at most by what it already holds (and 64 KiB) per read,
// so a length field alone cannot make it allocate much.
func (d *decodeState) fill(n int, op int) error {
	want := d.off + n
	if want > d.opts.MaxSize || want < 0 {
		return &LimitError{Offset: int64(d.off), Limit: "MaxSize", Max: int64(d.opts.MaxSize), Got: int64(want)}
	}
	for len(d.data) < want {
		chunk := want - len(d.data)
		if limit := max(len(d.data), 64<<10); chunk > limit {
			chunk = limit
		}
		if cap(d.data)-len(d.data) < chunk {
			nd := make([]byte, len(d.data), len(d.data)+max(chunk, len(d.data)))
			copy(nd, d.data)
			d.data = nd
		}
		m, err := io.ReadFull(d.r, d.data[len(d.data):len(d.data)+chunk])
		d.data = d.data[:len(d.data)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				if len(d.data) == 0 {
					return io.EOF
				}
				return d.eof(n, op)
			}
			return err
		}
	}
	return nil
}

func (d *decodeState) byte1(op int) (byte, error) {
	if d.off >= len(d.data) {
		if err := d.need(1, op); err != nil {
			return 0, err
		}
	}
	b := d.data[d.off]
	d.off++
	return b, nil
}

func (d *decodeState) take(n int, op int) ([]byte, error) {
	if err := d.need(n, op); err != nil {
		return nil, err
	}
	b := d.data[d.off : d.off+n : d.off+n]
	d.off += n
	return b, nil
}

// u32 reads a 4-byte length or count in the image's order.
func (d *decodeState) u32(op int) (uint32, error) {
	if p := d.off; len(d.data)-p >= 4 {
		d.off += 4
		return d.lay.uint32(d.data[p:]), nil
	}
	b, err := d.take(4, op)
	if err != nil {
		return 0, err
	}
	return d.lay.uint32(b), nil
}

// netU32 reads a 4-byte number that is big-endian in every image (tags).
func (d *decodeState) netU32(op int) (uint32, error) {
	if p := d.off; len(d.data)-p >= 4 {
		d.off += 4
		return binary.BigEndian.Uint32(d.data[p:]), nil
	}
	b, err := d.take(4, op)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

// length reads a length of one byte, or of four bytes when long is set.
func (d *decodeState) length(long bool, op int) (uint64, error) {
	if long {
		v, err := d.u32(op)
		return uint64(v), err
	}
	b, err := d.byte1(op)
	return uint64(b), err
}

// u64 reads an 8-byte length of SX_LOBJECT.
func (d *decodeState) u64(op int) (uint64, error) {
	b, err := d.take(8, op)
	if err != nil {
		return 0, err
	}
	return d.lay.uint64(b), nil
}

// count checks an element count against a limit and the bytes left
// (each element takes at least min bytes).
func (d *decodeState) count(n uint64, minSize int, limit int, name string, at int, op int) (int, error) {
	if n > uint64(limit) {
		return 0, &LimitError{Offset: int64(at), Limit: name, Max: int64(limit), Got: clampInt64(n)}
	}
	if d.r == nil && n*uint64(minSize) > uint64(len(d.data)-d.off) {
		return 0, &SyntaxError{Offset: int64(at), Op: op, eof: true,
			Msg: strconv.FormatUint(n, 10) + " items announced but only " + strconv.Itoa(len(d.data)-d.off) + " bytes left"}
	}
	return int(n), nil
}

func clampInt64(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// str reads n bytes of string data (length already read).
func (d *decodeState) str(n uint64, at int, op int) ([]byte, error) {
	if n > uint64(d.opts.MaxStringLen) {
		return nil, &LimitError{Offset: int64(at), Limit: "MaxStringLen", Max: int64(d.opts.MaxStringLen), Got: clampInt64(n)}
	}
	if d.r == nil && n > uint64(len(d.data)-d.off) {
		return nil, d.eof(int(min(n, math.MaxInt32)), op)
	}
	return d.take(int(n), op)
}

// quickStr reads the string at the current offset whose length, of one
// byte or (long) of four, comes first: the common case, when all of it is
// in d.data and within MaxStringLen, in one step. Otherwise it reads
// nothing and returns false, and str tells what is wrong.
func (d *decodeState) quickStr(long bool) ([]byte, bool) {
	p, w := d.off, 1
	if long {
		w = 4
	}
	if len(d.data)-p < w {
		return nil, false
	}
	n := int(d.data[p])
	if long {
		n32 := d.lay.uint32(d.data[p:])
		if n32 > maxI32 {
			return nil, false
		}
		n = int(n32)
	}
	if n > d.opts.MaxStringLen || n > len(d.data)-p-w {
		return nil, false
	}
	d.off = p + w + n
	return d.data[p+w : d.off : d.off], true
}

// bytes returns the bytes of a byte string: b itself with AliasInput,
// else a copy.
func (d *decodeState) bytes(b []byte) []byte {
	if d.alias {
		return b
	}
	return d.mem.Copy(b)
}

func (d *decodeState) syntax(at int, op int, msg string) error {
	return &SyntaxError{Offset: int64(at), Op: op, Msg: msg}
}

// addRef records a value with an identity and returns its index in d.refs.
func (d *decodeState) addRef(r perl.Referent) int32 {
	d.refs = append(d.refs, r)
	return int32(len(d.refs) - 1)
}

// seenRef gives the next tag to a value with an identity.
func (d *decodeState) seenRef(r perl.Referent) int32 {
	i := d.addRef(r)
	d.seen = append(d.seen, seenEntry{ref: i, owner: -1})
	return i
}

// slot returns where the plain scalar of a seen entry is held.
func (d *decodeState) slot(e *seenEntry) *perl.Value {
	if e.owner >= 0 {
		switch o := d.refs[e.owner].(type) {
		case *perl.Array:
			return &o.Elems[e.idx]
		case *perl.Hash:
			return &o.Entries[e.idx].Value
		}
	}
	return &d.root
}

// identity returns the value with tag t as a Referent, giving a plain
// scalar an identity (*perl.Scalar) in its place when it has none yet.
func (d *decodeState) identity(t uint64, at int, op int) (perl.Referent, error) {
	if t >= uint64(len(d.seen)) {
		return nil, d.syntax(at, op, "back-reference to object #"+strconv.FormatUint(t, 10)+
			" but only "+strconv.Itoa(len(d.seen))+" objects seen")
	}
	e := &d.seen[t]
	if e.ref < 0 {
		p := d.slot(e)
		sc := &perl.Scalar{Value: *p}
		*p = sc
		e.ref = d.addRef(sc)
	}
	return d.refs[e.ref], nil
}

// store puts a decoded plain scalar in its place and records its tag.
func (d *decodeState) scalar(slot *perl.Value, owner int32, idx int, ctx ctxKind, class string, v perl.Value) {
	if ctx == ctxRef || class != "" {
		sc := &perl.Scalar{Class: class, Value: v}
		d.seenRef(sc)
		d.put(slot, sc)
		return
	}
	d.seen = append(d.seen, seenEntry{ref: -1, owner: owner, idx: idx})
	d.put(slot, v)
}

func (d *decodeState) put(slot *perl.Value, v perl.Value) {
	if slot == nil {
		d.root = v
		return
	}
	*slot = v
}

// value decodes one value into *slot, or the root when slot is nil.
func (d *decodeState) value(slot *perl.Value, ctx ctxKind, class string, depth int) error {
	return d.valueIn(slot, -1, 0, ctx, class, depth)
}

// valueIn decodes one value into *slot. owner (an array or hash; nil for
// the root) and idx say where slot is, for back-references to a plain
// scalar.
func (d *decodeState) valueIn(slot *perl.Value, owner int32, idx int, ctx ctxKind, class string, depth int) error {
	at := d.off
	op, err := d.byte1(noOp)
	if err != nil {
		return err
	}
	o := int(op)
	switch op {
	case opScalar, opUTF8Str:
		if b, ok := d.quickStr(false); ok {
			d.scalar(slot, owner, idx, ctx, class, d.stringValue(b, op == opUTF8Str))
			break
		}
		n, err := d.byte1(o)
		if err != nil {
			return err
		}
		b, err := d.str(uint64(n), at+1, o)
		if err != nil {
			return err
		}
		d.scalar(slot, owner, idx, ctx, class, d.stringValue(b, op == opUTF8Str))
	case opByte:
		b, err := d.byte1(o)
		if err != nil {
			return err
		}
		d.scalar(slot, owner, idx, ctx, class, d.mem.Int(int64(b)-128))
	case opUndef:
		d.scalar(slot, owner, idx, ctx, class, perl.Undef{})
	case opNetint:
		v, err := d.netU32(o)
		if err != nil {
			return err
		}
		d.scalar(slot, owner, idx, ctx, class, d.mem.Int(int64(int32(v))))
	case opArray:
		n, err := d.u32(o)
		if err != nil {
			return err
		}
		if n > maxI32 {
			return d.syntax(at+1, o, "negative length")
		}
		return d.array(slot, uint64(n), class, depth, at)
	case opHash, opFlagHash:
		var flags byte
		if op == opFlagHash {
			if flags, err = d.byte1(o); err != nil {
				return err
			}
		}
		n, err := d.u32(o)
		if err != nil {
			return err
		}
		if n > maxI32 {
			return d.syntax(at+1, o, "negative length")
		}
		return d.hash(slot, uint64(n), op == opFlagHash, flags, class, depth, at)
	case opRef, opWeakRef, opOverload, opWeakOverload:
		return d.ref(slot, owner, idx, ctx, class, depth, op, at)
	case opObject:
		t, err := d.netU32(o)
		if err != nil {
			return err
		}
		return d.backref(slot, uint64(t), class, at)
	case opLScalar, opLUTF8Str:
		n, err := d.u32(o)
		if err != nil {
			return err
		}
		b, err := d.str(uint64(n), at+1, o)
		if err != nil {
			return err
		}
		d.scalar(slot, owner, idx, ctx, class, d.stringValue(b, op == opLUTF8Str))
	case opInteger:
		b, err := d.take(d.lay.ivSize, o)
		if err != nil {
			return err
		}
		var v int64
		if len(b) == 8 {
			v = int64(d.lay.uint64(b))
		} else {
			v = int64(int32(d.lay.uint32(b)))
		}
		d.scalar(slot, owner, idx, ctx, class, d.mem.Int(v))
	case opDouble:
		b, err := d.take(d.lay.nvSize, o)
		if err != nil {
			return err
		}
		d.scalar(slot, owner, idx, ctx, class, d.mem.Float(d.float(b)))
	case opSvUndef, opSvUndefElem, opSvYes, opSvNo:
		return d.immortal(slot, owner, idx, ctx, class, op, at)
	case opBooleanTrue:
		d.scalar(slot, owner, idx, ctx, class, perl.Bool(true))
	case opBooleanFalse:
		d.scalar(slot, owner, idx, ctx, class, perl.Bool(false))
	case opBless, opIxBless:
		if class != "" {
			return d.syntax(at, o, "blessed twice")
		}
		c, err := d.blessClass(op, at)
		if err != nil {
			return err
		}
		return d.valueIn(slot, owner, idx, ctx, c, depth)
	case opHook:
		return d.hook(slot, class, depth, false, at)
	case opVString, opLVString:
		return d.vstring(slot, owner, idx, ctx, class, op, at)
	case opRegexp:
		return d.regexp(slot, class, at)
	case opLObject:
		return d.lobject(slot, owner, idx, ctx, class, depth, at)
	case opTiedArray, opTiedHash, opTiedScalar, opTiedKey, opTiedIdx:
		return &UnsupportedError{Offset: int64(at), Op: o, What: "tied values"}
	case opCode:
		return &UnsupportedError{Offset: int64(at), Op: o, What: "code references"}
	default:
		msg := "unknown opcode 0x" + strconv.FormatUint(uint64(op), 16)
		if d.lay.minor > knownMinor {
			msg += " (image of binary minor " + strconv.Itoa(d.lay.minor) + ", newer than " + strconv.Itoa(knownMinor) + ")"
		}
		return d.syntax(at, noOp, msg)
	}
	return nil
}

// immortal decodes Perl's immortals: undef (SX_SV_UNDEF, which in an array
// marks a missing element, and SX_SVUNDEF_ELEM), true and false.
func (d *decodeState) immortal(slot *perl.Value, owner int32, idx int, ctx ctxKind, class string, op byte, at int) error {
	if class != "" {
		return d.syntax(at, int(op), "blessed immortal")
	}
	var v perl.Value
	switch op {
	case opSvYes:
		v = perl.Bool(true)
	case opSvNo:
		v = perl.Bool(false)
	case opSvUndef:
		v = perl.Undef{Of: perl.UndefImmortal}
		if ctx == ctxElem {
			v = perl.Undef{Of: perl.UndefHole}
		}
	default:
		v = perl.Undef{Of: perl.UndefImmortal}
	}
	d.scalar(slot, owner, idx, ctx, "", v)
	return nil
}

func (d *decodeState) stringValue(b []byte, utf8 bool) perl.Value {
	if utf8 {
		return d.mem.String(d.mem.CopyString(b))
	}
	return d.mem.Bytes(d.bytes(b))
}

func (d *decodeState) deeper(depth int, at int) error {
	if depth >= d.opts.MaxDepth {
		return &LimitError{Offset: int64(at), Limit: "MaxDepth", Max: int64(d.opts.MaxDepth)}
	}
	return nil
}

func (d *decodeState) backref(slot *perl.Value, t uint64, class string, at int) error {
	if class != "" {
		return d.syntax(at, opObject, "blessed back-reference")
	}
	r, err := d.identity(t, at, opObject)
	if err != nil {
		return err
	}
	d.put(slot, r)
	return nil
}

func (d *decodeState) array(slot *perl.Value, n uint64, class string, depth int, at int) error {
	if err := d.deeper(depth, at); err != nil {
		return err
	}
	cnt, err := d.count(n, 1, d.opts.MaxArrayLen, "MaxArrayLen", at, opArray)
	if err != nil {
		return err
	}
	if d.r != nil {
		cnt = min(cnt, 4096) // grow as elements arrive
	}
	a := d.mem.Array(cnt)
	if class != "" {
		a.Class = class
	}
	ai := d.seenRef(a)
	d.put(slot, a)
	for i := 0; i < int(n); i++ {
		if i < cap(a.Elems) {
			a.Elems = a.Elems[:i+1] // the element is zero: nothing to write
		} else {
			a.Elems = append(a.Elems, nil)
		}
		if err := d.valueIn(&a.Elems[i], ai, i, ctxElem, "", depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (d *decodeState) hash(slot *perl.Value, n uint64, flagged bool, hflags byte, class string, depth int, at int) error {
	if err := d.deeper(depth, at); err != nil {
		return err
	}
	op := opHash
	minSize := 5 // value, key length
	if flagged {
		op, minSize = opFlagHash, 3 // value, flags, key as a value (SHV_K_ISSV)
	}
	cnt, err := d.count(n, minSize, d.opts.MaxHashLen, "MaxHashLen", at, op)
	if err != nil {
		return err
	}
	if d.r != nil {
		cnt = min(cnt, 4096) // grow as entries arrive
	}
	h := d.mem.Hash(cnt)
	if class != "" {
		h.Class = class
	}
	h.Restricted = flagged && hflags&hashRestricted != 0
	hi := d.seenRef(h)
	d.put(slot, h)
	var keys hashkey.Set // Perl never writes a key twice
	for i := 0; i < int(n); i++ {
		if i < cap(h.Entries) {
			h.Entries = h.Entries[:i+1] // the entry is zero: nothing to write
		} else {
			h.Entries = append(h.Entries, perl.HashEntry{})
		}
		if err := d.valueIn(&h.Entries[i].Value, hi, i, ctxPlain, "", depth+1); err != nil {
			return err
		}
		kat := d.off
		if err := d.key(&h.Entries[i], flagged, depth, op); err != nil {
			return err
		}
		if keys.Add(h.Entries, i) >= 0 {
			return d.syntax(kat, op, "duplicate hash key "+strconv.Quote(h.Entries[i].Text()))
		}
	}
	return nil
}

// key reads the key of a hash entry whose value was read.
func (d *decodeState) key(e *perl.HashEntry, flagged bool, depth int, op int) error {
	at := d.off
	if flagged {
		kf, err := d.byte1(op)
		if err != nil {
			return err
		}
		e.UTF8 = kf&keyUTF8 != 0
		if kf&keyWasUTF8 != 0 {
			e.Flags |= perl.KeyWasUTF8
		}
		if kf&keyLocked != 0 {
			e.Flags |= perl.KeyLocked
		}
		if kf&keyPlaceholder != 0 {
			e.Flags |= perl.KeyPlaceholder
		}
		if kf&keyIsSV != 0 {
			return d.svKey(e, depth, at)
		}
	}
	if k, ok := d.quickStr(true); ok {
		e.Key = d.keyString(k)
		return nil
	}
	n, err := d.u32(op)
	if err != nil {
		return err
	}
	k, err := d.str(uint64(n), at, op)
	if err != nil {
		return err
	}
	e.Key = d.keyString(k)
	return nil
}

// svKey reads a key that Storable wrote as a value (SHV_K_ISSV).
func (d *decodeState) svKey(e *perl.HashEntry, depth int, at int) error {
	var k perl.Value
	if err := d.value(&k, ctxRef, "", depth+1); err != nil {
		return err
	}
	sc, _ := k.(*perl.Scalar)
	if sc != nil {
		switch s := sc.Value.(type) {
		case perl.Bytes:
			e.Key = string(s)
			return nil
		case perl.String:
			e.Key, e.UTF8 = string(s), true
			return nil
		case perl.Int:
			e.Key = strconv.FormatInt(int64(s), 10)
			return nil
		}
	}
	return d.syntax(at, opFlagHash, "hash key is not a string")
}

func (d *decodeState) ref(slot *perl.Value, owner int32, idx int, ctx ctxKind, class string, depth int, op byte, at int) error {
	if err := d.deeper(depth, at); err != nil {
		return err
	}
	// The scalar holding the reference is numbered before its target.
	tag := len(d.seen)
	var sc *perl.Scalar
	if ctx == ctxRef || class != "" {
		sc = &perl.Scalar{Class: class}
		d.seenRef(sc)
		d.put(slot, sc)
	} else {
		d.seen = append(d.seen, seenEntry{ref: -1, owner: owner, idx: idx})
	}
	var target perl.Value
	if err := d.value(&target, ctxRef, "", depth+1); err != nil {
		return err
	}
	to := target.(perl.Referent)
	r := perl.Ref{To: to, Weak: op == opWeakRef || op == opWeakOverload}
	if op == opOverload || op == opWeakOverload {
		if to.Blessed() == "" {
			return d.syntax(at, int(op), "overloaded reference to an unblessed value")
		}
		r.Overloaded = true
	}
	if sc == nil {
		if e := d.seen[tag]; e.ref >= 0 {
			sc = d.refs[e.ref].(*perl.Scalar) // referenced while its target was being read
		}
	}
	if sc != nil {
		sc.Value = d.mem.Ref(r)
		return nil
	}
	d.put(slot, d.mem.Ref(r))
	return nil
}

func (d *decodeState) blessClass(op byte, at int) (string, error) {
	o := int(op)
	b, err := d.byte1(o)
	if err != nil {
		return "", err
	}
	n := uint64(b)
	if b&0x80 != 0 {
		if n, err = d.length(true, o); err != nil {
			return "", err
		}
	}
	if op == opIxBless {
		return d.classAt(n, at, o)
	}
	name, err := d.str(n, at+1, o)
	if err != nil {
		return "", err
	}
	if len(name) == 0 {
		return "", d.syntax(at+1, o, "empty class name")
	}
	s := string(name)
	d.class = append(d.class, s)
	return s, nil
}

func (d *decodeState) classAt(n uint64, at int, op int) (string, error) {
	if n >= uint64(len(d.class)) {
		return "", d.syntax(at, op, "class #"+strconv.FormatUint(n, 10)+" not seen")
	}
	return d.class[n], nil
}

func (d *decodeState) hook(slot *perl.Value, class string, depth int, large bool, at int) error {
	const o = opHook
	if class != "" {
		return d.syntax(at, o, "blessed hook object")
	}
	if err := d.deeper(depth, at); err != nil {
		return err
	}
	flags, err := d.byte1(o)
	if err != nil {
		return err
	}
	typ := flags & hookTypeMask
	if typ == hookTypeExtra {
		return &UnsupportedError{Offset: int64(at), Op: o, What: "tied objects with STORABLE_freeze hooks"}
	}
	h := &perl.Hook{Type: perl.HookType(typ)}
	d.seenRef(h)
	d.put(slot, h)
	for flags&hookNeedRecurse != 0 {
		var sub perl.Value
		if err := d.value(&sub, ctxRef, "", depth+1); err != nil {
			return err
		}
		if flags, err = d.byte1(o); err != nil {
			return err
		}
	}
	// Class name or index.
	n, err := d.length(flags&hookLargeClassLen != 0, o)
	if err != nil {
		return err
	}
	if flags&hookIdxClassname != 0 {
		if h.Class, err = d.classAt(n, at, o); err != nil {
			return err
		}
	} else {
		name, err := d.str(n, at, o)
		if err != nil {
			return err
		}
		if len(name) == 0 {
			return d.syntax(at, o, "empty class name")
		}
		h.Class = string(name)
		d.class = append(d.class, h.Class)
	}
	// Frozen string.
	if large {
		n, err = d.u64(o)
	} else {
		n, err = d.length(flags&hookLargeStrLen != 0, o)
	}
	if err != nil {
		return err
	}
	frozen, err := d.str(n, d.off, o)
	if err != nil {
		return err
	}
	h.Frozen = d.bytes(frozen)
	if flags&hookHasList == 0 {
		return nil
	}
	// References returned by STORABLE_freeze, as tags.
	if n, err = d.length(flags&hookLargeListLen != 0, o); err != nil {
		return err
	}
	largeIDs := false
	if int32(n) < 0 && flags&hookLargeListLen != 0 {
		largeIDs, n = true, uint64(-int64(int32(n))) // 8-byte tags follow
	}
	size := 4
	if largeIDs {
		size = 8
	}
	cnt, err := d.count(n, size, d.opts.MaxArrayLen, "MaxArrayLen", at, o)
	if err != nil {
		return err
	}
	h.Refs = make([]perl.Value, 0, min(cnt, 4096))
	for range cnt {
		tat := d.off
		var t uint64
		if largeIDs {
			t, err = d.u64(o)
		} else {
			var v uint32
			v, err = d.netU32(o)
			t = uint64(v)
		}
		if err != nil {
			return err
		}
		r, err := d.identity(t, tat, o)
		if err != nil {
			return err
		}
		h.Refs = append(h.Refs, d.mem.Ref(perl.Ref{To: r}))
	}
	return nil
}

func (d *decodeState) vstring(slot *perl.Value, owner int32, idx int, ctx ctxKind, class string, op byte, at int) error {
	o := int(op)
	n, err := d.length(op == opLVString, o)
	if err != nil {
		return err
	}
	lit, err := d.str(n, at+1, o)
	if err != nil {
		return err
	}
	literal := string(lit)
	sat := d.off
	sop, err := d.byte1(o)
	if err != nil {
		return err
	}
	switch sop {
	case opScalar, opUTF8Str, opLScalar, opLUTF8Str:
		if n, err = d.length(sop == opLScalar || sop == opLUTF8Str, int(sop)); err != nil {
			return err
		}
	default:
		return d.syntax(sat, o, "v-string followed by "+OpName(sop)+", not a string")
	}
	s, err := d.str(n, sat+1, int(sop))
	if err != nil {
		return err
	}
	v := perl.VString{Literal: literal, Value: d.stringValue(s, sop == opUTF8Str || sop == opLUTF8Str)}
	d.scalar(slot, owner, idx, ctx, class, v)
	return nil
}

func (d *decodeState) regexp(slot *perl.Value, class string, at int) error {
	const o = opRegexp
	flags, err := d.byte1(o)
	if err != nil {
		return err
	}
	n, err := d.length(flags&regexpLargeLen != 0, o)
	if err != nil {
		return err
	}
	pat, err := d.str(n, at, o)
	if err != nil {
		return err
	}
	pattern := string(pat)
	b, err := d.byte1(o)
	if err != nil {
		return err
	}
	fat := d.off
	fl, err := d.str(uint64(b), fat, o)
	if err != nil {
		return err
	}
	for _, c := range fl {
		switch c {
		case 'm', 's', 'i', 'x', 'p', 'd', 'u', 'a', 'l', 'n':
		default:
			return d.syntax(fat, o, "invalid regexp flags "+strconv.Quote(string(fl)))
		}
	}
	r := &perl.Regexp{Class: class, Pattern: pattern, Flags: string(fl)}
	d.seenRef(r)
	d.put(slot, r)
	return nil
}

func (d *decodeState) lobject(slot *perl.Value, owner int32, idx int, ctx ctxKind, class string, depth int, at int) error {
	const o = opLObject
	typ, err := d.byte1(o)
	if err != nil {
		return err
	}
	var hflags byte
	switch typ {
	case opFlagHash:
		if hflags, err = d.byte1(o); err != nil {
			return err
		}
	case opHook:
		return d.hook(slot, class, depth, true, at)
	}
	n, err := d.u64(o)
	if err != nil {
		return err
	}
	switch typ {
	case opObject:
		return d.backref(slot, n, class, at)
	case opLScalar, opLUTF8Str:
		b, err := d.str(n, at, o)
		if err != nil {
			return err
		}
		d.scalar(slot, owner, idx, ctx, class, d.stringValue(b, typ == opLUTF8Str))
		return nil
	case opArray:
		return d.array(slot, n, class, depth, at)
	case opHash, opFlagHash:
		return d.hash(slot, n, typ == opFlagHash, hflags, class, depth, at)
	}
	return d.syntax(at+1, o, "unexpected "+OpName(typ)+" in a large object")
}
