package storable

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/goimp/imprpc/perl"
)

// Linear tables are searched up to this size before a map is built.
const smallTable = 32

type encodeState struct {
	buf     []byte
	mode    *encMode
	net     bool
	ivSize  int
	tag     uint64
	tags    tagTable  // the tags of referents written so far
	immTag  [3]uint64 // the tags of the immortals (see immIndex)
	immSeen [3]bool
	classes []string // class names written so far, while few
	clsMap  map[string]int
	useCls  bool // classes moved to clsMap
	sortBuf []int32
}

var encodePool = sync.Pool{New: func() any { return new(encodeState) }}

func (m *encMode) newState(dst []byte) *encodeState {
	e := encodePool.Get().(*encodeState)
	e.buf, e.mode = dst, m
	e.net = m.opts.Order == NetworkOrder
	e.ivSize = len(m.opts.Machine.ByteOrder)
	return e
}

func (e *encodeState) release() {
	e.tags.reset()
	e.immSeen = [3]bool{}
	clear(e.classes)
	e.classes, e.sortBuf = e.classes[:0], e.sortBuf[:0]
	e.useCls = false
	if len(e.clsMap) > 4096 {
		e.clsMap = nil
	}
	clear(e.clsMap)
	e.buf, e.mode, e.tag = nil, nil, 0
	encodePool.Put(e)
}

// Marshal returns the image of v that Perl's nfreeze would write, using
// the default EncOptions. See the package documentation for the mapping of
// Go values.
func Marshal(v any) ([]byte, error) { return defaultEncMode.Marshal(v) }

// MarshalValue returns the image of a perl.Value that Perl's nfreeze would
// write, using the default EncOptions.
func MarshalValue(v perl.Value) ([]byte, error) { return defaultEncMode.MarshalValue(v) }

func (m *encMode) MarshalValue(v perl.Value) ([]byte, error) {
	return m.AppendValue(nil, v)
}

func (m *encMode) AppendValue(dst []byte, v perl.Value) ([]byte, error) {
	e := m.newState(dst)
	defer e.release()
	start := len(e.buf)
	e.buf = append(e.buf, m.header...)
	if err := e.value(v, ctxPlain, 0); err != nil {
		return dst[:start], err
	}
	return e.buf, nil
}

func (e *encodeState) unsupported(v perl.Value, msg string) error {
	return &UnsupportedValueError{Value: v, Msg: msg}
}

// value writes one scalar (which may be a reference) or, for a Referent
// in the place of a scalar, that value itself.
func (e *encodeState) value(v perl.Value, ctx ctxKind, depth int) error {
	switch x := v.(type) {
	case *perl.Array:
		return e.referent(x, ctx, depth)
	case *perl.Hash:
		return e.referent(x, ctx, depth)
	case *perl.Scalar:
		return e.referent(x, ctx, depth)
	case *perl.Regexp:
		return e.referent(x, ctx, depth)
	case *perl.Hook:
		return e.referent(x, ctx, depth)
	case perl.Bool, perl.Undef:
		if e.immortal(v, ctx) {
			return nil
		}
	}
	e.tag++
	return e.scalar(v, ctx, depth)
}

// immIndex numbers the immortals: 0 for &PL_sv_undef, 1 and 2 for
// &PL_sv_yes and &PL_sv_no (when booleans are written as immortals); -1
// for any other value.
func (e *encodeState) immIndex(v perl.Value) int {
	switch x := v.(type) {
	case perl.Undef:
		if x.Of == perl.UndefImmortal {
			return 0
		}
	case perl.Bool:
		if e.mode.opts.Bools == BoolImmortal {
			if x {
				return 1
			}
			return 2
		}
	}
	return -1
}

// immortal writes v if it is one of Perl's immortals, as Storable does:
// each is one value, so the second true or false is a back-reference to
// the first; &PL_sv_undef alone is written anew each time, and as an array
// element it is SX_SVUNDEF_ELEM.
func (e *encodeState) immortal(v perl.Value, ctx ctxKind) bool {
	i := e.immIndex(v)
	switch {
	case i < 0:
		return false
	case i == 0 && ctx == ctxElem:
		e.tag++
		e.buf = append(e.buf, opSvUndefElem)
		return true
	case i > 0 && e.immSeen[i]:
		e.buf = append(e.buf, opObject)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(e.immTag[i]))
		return true
	}
	if !e.immSeen[i] {
		e.immSeen[i], e.immTag[i] = true, e.tag
	}
	e.tag++
	e.buf = append(e.buf, [3]byte{opSvUndef, opSvYes, opSvNo}[i])
	return true
}

// mortal returns the value of a scalar, with the immortals that a blessed
// scalar cannot be (Perl cannot bless them) as their copies: undef as an
// ordinary undef, true and false as "1" and "", as Storable 3.26 writes
// boolean copies.
func (e *encodeState) mortal(s *perl.Scalar) perl.Value {
	if s.Class == "" || e.immIndex(s.Value) < 0 {
		return s.Value
	}
	switch x := s.Value.(type) {
	case perl.Bool:
		if x {
			return perl.Bytes("1")
		}
		return perl.Bytes("")
	}
	return perl.Undef{}
}

// seenTag returns the tag of a referent written before.
func (e *encodeState) seenTag(r perl.Referent) (uint64, bool) {
	if s, ok := r.(*perl.Scalar); ok && s != nil && s.Class == "" {
		if i := e.immIndex(s.Value); i >= 0 {
			return e.immTag[i], e.immSeen[i]
		}
	}
	return e.tags.get(r)
}

// scalar writes the content of a scalar whose tag is allocated.
func (e *encodeState) scalar(v perl.Value, ctx ctxKind, depth int) error {
	switch x := v.(type) {
	case perl.Bytes:
		appendStr(e, x, opScalar, opLScalar)
	case perl.Int:
		e.int(int64(x))
	case perl.Ref:
		return e.ref(x, depth)
	case perl.Undef:
		switch {
		case x.Of == perl.UndefPlain:
			e.buf = append(e.buf, opUndef)
		case x.Of == perl.UndefImmortal && ctx == ctxElem:
			e.buf = append(e.buf, opSvUndefElem)
		default:
			e.buf = append(e.buf, opSvUndef)
		}
	case perl.String:
		appendStr(e, x, opUTF8Str, opLUTF8Str)
	case perl.Float:
		e.float(float64(x))
	case perl.Uint:
		if x <= math.MaxInt64 {
			e.int(int64(x))
		} else {
			e.decimal(strconv.AppendUint(e.scratch(), uint64(x), 10))
		}
	case perl.Bool:
		e.bool(bool(x))
	case perl.VString:
		return e.vstring(x)
	case nil:
		return e.unsupported(v, "nil perl.Value")
	default:
		return e.unsupported(v, "a "+v.Kind().String()+" as a scalar's value")
	}
	return nil
}

func (e *encodeState) bool(b bool) {
	switch e.mode.opts.Bools {
	case BoolString:
		if b {
			e.buf = append(e.buf, opScalar, 1, '1')
		} else {
			e.buf = append(e.buf, opScalar, 0)
		}
	case BoolBoolean:
		if b {
			e.buf = append(e.buf, opBooleanTrue)
		} else {
			e.buf = append(e.buf, opBooleanFalse)
		}
	default:
		if b {
			e.buf = append(e.buf, opSvYes)
		} else {
			e.buf = append(e.buf, opSvNo)
		}
	}
}

// int writes an integer as Storable does: SX_BYTE for -128..127, else
// SX_NETINT (network order, 32 bits) or SX_INTEGER (native), and a decimal
// string for what does not fit.
func (e *encodeState) int(i int64) {
	switch {
	case i >= -128 && i <= 127:
		e.buf = append(e.buf, opByte, byte(i+128))
	case e.net:
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			e.buf = append(e.buf, opNetint)
			e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(i))
		} else {
			e.decimal(strconv.AppendInt(e.scratch(), i, 10))
		}
	case e.ivSize == 8:
		e.buf = append(e.buf, opInteger)
		e.buf = e.mode.order.AppendUint64(e.buf, uint64(i))
	case i >= math.MinInt32 && i <= math.MaxInt32:
		e.buf = append(e.buf, opInteger)
		e.buf = e.mode.order.AppendUint32(e.buf, uint32(i))
	default:
		e.decimal(strconv.AppendInt(e.scratch(), i, 10))
	}
}

// float writes a number as Perl's Storable does: an integral value that a
// double holds exactly (below 2**53) as an integer, others as SX_DOUBLE in
// native order and as %.15g text in network order.
func (e *encodeState) float(f float64) {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		e.int(int64(f))
		return
	}
	if e.net {
		e.decimal(appendPerlFloat(e.scratch(), f))
		return
	}
	e.buf = append(e.buf, opDouble)
	e.buf = e.mode.order.AppendUint64(e.buf, math.Float64bits(f))
}

// scratch returns room at the end of the buffer to format a number into,
// two bytes after the current end (room for SX_SCALAR and its length).
func (e *encodeState) scratch() []byte {
	e.buf = append(e.buf, opScalar, 0)
	return e.buf
}

// decimal finishes a short string formatted into the buffer by scratch.
func (e *encodeState) decimal(b []byte) {
	n := len(b) - len(e.buf)
	e.buf = b
	e.buf[len(e.buf)-n-1] = byte(n)
}

func (e *encodeState) length(n int) {
	if e.net {
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	} else {
		e.buf = e.mode.order.AppendUint32(e.buf, uint32(n))
	}
}

func (e *encodeState) length64(n uint64) {
	if e.net {
		e.buf = binary.BigEndian.AppendUint64(e.buf, n)
	} else {
		e.buf = e.mode.order.AppendUint64(e.buf, n)
	}
}

func appendStr[T ~string | ~[]byte](e *encodeState, s T, short, long byte) {
	switch n := len(s); {
	case n <= maxShortLen:
		e.buf = append(e.buf, short, byte(n))
	case n <= maxI32:
		e.buf = append(e.buf, long)
		e.length(n)
	default:
		e.buf = append(e.buf, opLObject, long)
		e.length64(uint64(n))
	}
	e.buf = append(e.buf, s...)
}

func (e *encodeState) vstring(v perl.VString) error {
	if len(v.Literal) <= maxShortLen {
		e.buf = append(e.buf, opVString, byte(len(v.Literal)))
	} else if len(v.Literal) < maxI32 {
		e.buf = append(e.buf, opLVString)
		e.length(len(v.Literal))
	} else {
		return e.unsupported(v, "a v-string literal of 2 GiB or more")
	}
	e.buf = append(e.buf, v.Literal...)
	switch s := v.Value.(type) {
	case perl.Bytes:
		appendStr(e, s, opScalar, opLScalar)
	case perl.String:
		appendStr(e, s, opUTF8Str, opLUTF8Str)
	default:
		return e.unsupported(v, "a v-string whose Value is not Bytes or String")
	}
	return nil
}

func (e *encodeState) ref(r perl.Ref, depth int) error {
	if r.To == nil {
		return e.unsupported(r, "a Ref with a nil To")
	}
	op := byte(opRef)
	switch {
	case r.Overloaded && r.To.Blessed() == "":
		return e.unsupported(r, "an overloaded reference to an unblessed value")
	case r.Overloaded && r.Weak:
		op = opWeakOverload
	case r.Overloaded:
		op = opOverload
	case r.Weak:
		op = opWeakRef
	}
	e.buf = append(e.buf, op)
	return e.referent(r.To, ctxRef, depth+1)
}

func (e *encodeState) deeper(depth int) error {
	if depth >= e.mode.opts.MaxDepth {
		return &LimitError{Offset: -1, Limit: "MaxDepth", Max: int64(e.mode.opts.MaxDepth)}
	}
	return nil
}

// referent writes a value with an identity, or a back-reference to it
// when it was written before.
func (e *encodeState) referent(r perl.Referent, ctx ctxKind, depth int) error {
	if s, ok := r.(*perl.Scalar); ok && s != nil && s.Class == "" && e.immIndex(s.Value) >= 0 {
		e.immortal(s.Value, ctx)
		return nil
	}
	if t, ok := e.tags.get(r); ok {
		if t > maxI32 {
			e.buf = append(e.buf, opLObject, opObject)
			e.length64(t)
		} else {
			e.buf = append(e.buf, opObject)
			e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(t))
		}
		return nil
	}
	if err := e.deeper(depth); err != nil {
		return err
	}
	e.tags.put(r, e.tag)
	e.tag++
	switch x := r.(type) {
	case *perl.Array:
		if x == nil {
			return e.unsupported(r, "a nil *perl.Array")
		}
		e.bless(x.Class)
		return e.array(x, depth)
	case *perl.Hash:
		if x == nil {
			return e.unsupported(r, "a nil *perl.Hash")
		}
		e.bless(x.Class)
		return e.hash(x, depth)
	case *perl.Scalar:
		if x == nil {
			return e.unsupported(r, "a nil *perl.Scalar")
		}
		e.bless(x.Class)
		return e.scalar(e.mortal(x), ctx, depth)
	case *perl.Regexp:
		if x == nil {
			return e.unsupported(r, "a nil *perl.Regexp")
		}
		e.bless(x.Class)
		return e.regexp(x)
	case *perl.Hook:
		if x == nil {
			return e.unsupported(r, "a nil *perl.Hook")
		}
		return e.hook(x, depth)
	}
	return e.unsupported(r, "an unknown perl.Referent")
}

// class returns the number of a class name and whether it was seen before;
// a new name is numbered.
func (e *encodeState) class(name string) (int, bool) {
	if !e.useCls {
		for i, c := range e.classes {
			if c == name {
				return i, true
			}
		}
		n := len(e.classes)
		if n < smallTable {
			e.classes = append(e.classes, name)
			return n, false
		}
		if e.clsMap == nil {
			e.clsMap = make(map[string]int, 2*smallTable)
		}
		for i, c := range e.classes {
			e.clsMap[c] = i
		}
		e.useCls = true
	}
	if i, ok := e.clsMap[name]; ok {
		return i, true
	}
	n := len(e.clsMap)
	e.clsMap[name] = n
	return n, false
}

func (e *encodeState) bless(class string) {
	if class == "" {
		return
	}
	i, seen := e.class(class)
	n := len(class)
	op := byte(opBless)
	if seen {
		op, n = opIxBless, i
	}
	if n <= maxShortBless {
		e.buf = append(e.buf, op, byte(n))
	} else {
		e.buf = append(e.buf, op, 0x80)
		e.length(n)
	}
	if !seen {
		e.buf = append(e.buf, class...)
	}
}

func (e *encodeState) array(a *perl.Array, depth int) error {
	n := len(a.Elems)
	if n > maxI32 {
		e.buf = append(e.buf, opLObject, opArray)
		e.length64(uint64(n))
	} else {
		e.buf = append(e.buf, opArray)
		e.length(n)
	}
	for _, v := range a.Elems {
		if err := e.value(v, ctxElem, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (e *encodeState) hash(h *perl.Hash, depth int) error {
	flagged := h.Restricted
	for i := range h.Entries {
		if en := &h.Entries[i]; en.UTF8 || en.Flags&(perl.KeyWasUTF8|perl.KeyPlaceholder) != 0 {
			flagged = true
			break
		}
	}
	op := byte(opHash)
	if flagged {
		op = opFlagHash
	}
	n := len(h.Entries)
	if n > maxI32 {
		e.buf = append(e.buf, opLObject, op)
		if flagged {
			e.buf = append(e.buf, hashFlags(h))
		}
		e.length64(uint64(n))
	} else {
		e.buf = append(e.buf, op)
		if flagged {
			e.buf = append(e.buf, hashFlags(h))
		}
		e.length(n)
	}
	if !e.mode.opts.Canonical || n < 2 {
		for i := range h.Entries {
			if err := e.entry(h, &h.Entries[i], flagged, depth); err != nil {
				return err
			}
		}
		return nil
	}
	base := len(e.sortBuf)
	for i := range n {
		e.sortBuf = append(e.sortBuf, int32(i))
	}
	order := e.sortBuf[base:]
	sortKeys(h.Entries, order)
	for _, i := range order {
		if err := e.entry(h, &h.Entries[i], flagged, depth); err != nil {
			return err
		}
	}
	e.sortBuf = e.sortBuf[:base]
	return nil
}

func hashFlags(h *perl.Hash) byte {
	if h.Restricted {
		return hashRestricted
	}
	return 0
}

func (e *encodeState) entry(h *perl.Hash, en *perl.HashEntry, flagged bool, depth int) error {
	if en.Flags&perl.KeyPlaceholder != 0 {
		e.immortal(perl.Undef{Of: perl.UndefImmortal}, ctxPlain) // Perl stores &PL_sv_undef for them
	} else if err := e.value(en.Value, ctxPlain, depth+1); err != nil {
		return err
	}
	key := en.Key
	var kf byte
	if en.UTF8 {
		if b, ok := latin1(key); ok {
			// Perl keeps keys that fit in Latin-1 as bytes.
			key, kf = b, keyWasUTF8
		} else {
			kf = keyUTF8
		}
	}
	if en.Flags&perl.KeyWasUTF8 != 0 {
		kf |= keyWasUTF8
	}
	if h.Restricted && en.Flags&(perl.KeyLocked|perl.KeyPlaceholder) != 0 {
		kf |= keyLocked
	}
	if en.Flags&perl.KeyPlaceholder != 0 {
		kf |= keyPlaceholder
	}
	if flagged {
		e.buf = append(e.buf, kf)
	}
	e.length(len(key))
	e.buf = append(e.buf, key...)
	return nil
}

// latin1 returns the Latin-1 bytes of UTF-8 text whose characters all fit
// in one byte.
func latin1(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff || r == utf8.RuneError {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

// sortKeys sorts the indices of entries by key: insertion sort for the
// few keys most hashes have, which needs no closure.
func sortKeys(entries []perl.HashEntry, order []int32) {
	if len(order) > 12 {
		slices.SortFunc(order, func(a, b int32) int { return compareKeys(&entries[a], &entries[b]) })
		return
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && compareKeys(&entries[order[j]], &entries[order[j-1]]) < 0; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// compareKeys orders hash keys by their characters, as Perl's sort does.
func compareKeys(a, b *perl.HashEntry) int {
	if a.UTF8 == b.UTF8 {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	}
	// One key is Latin-1 bytes, the other UTF-8: compare characters.
	x, y := a.Key, b.Key
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		var rx, ry rune
		var n int
		if a.UTF8 {
			rx, n = utf8.DecodeRuneInString(x[i:])
		} else {
			rx, n = rune(x[i]), 1
		}
		i += n
		if b.UTF8 {
			ry, n = utf8.DecodeRuneInString(y[j:])
		} else {
			ry, n = rune(y[j]), 1
		}
		j += n
		if rx != ry {
			if rx < ry {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < len(x):
		return 1
	case j < len(y):
		return -1
	}
	return 0
}

func (e *encodeState) regexp(r *perl.Regexp) error {
	if len(r.Flags) > maxShortLen {
		return e.unsupported(r, "regexp flags longer than 255 bytes")
	}
	if n := len(r.Pattern); n <= maxShortLen {
		e.buf = append(e.buf, opRegexp, 0, byte(n))
	} else if n <= math.MaxUint32 {
		e.buf = append(e.buf, opRegexp, regexpLargeLen)
		e.length(n)
	} else {
		return e.unsupported(r, "a regexp pattern of 4 GiB or more")
	}
	e.buf = append(e.buf, r.Pattern...)
	e.buf = append(e.buf, byte(len(r.Flags)))
	e.buf = append(e.buf, r.Flags...)
	return nil
}

func (e *encodeState) hook(h *perl.Hook, depth int) error {
	if h.Type > perl.HookHash {
		return e.unsupported(h, "a Hook of type "+strconv.Itoa(int(h.Type)))
	}
	if h.Class == "" {
		return e.unsupported(h, "a Hook without a class")
	}
	typ := byte(h.Type)
	largeStr := len(h.Frozen) > maxI32
	var small [8]uint64
	tags := small[:0]
	recursed := false
	for i, rv := range h.Refs {
		r, ok := rv.(perl.Ref)
		if !ok || r.To == nil {
			return e.unsupported(h, "a Hook whose Refs["+strconv.Itoa(i)+"] is not a Ref")
		}
		if t, ok := e.seenTag(r.To); ok {
			tags = append(tags, t)
			continue
		}
		// The object must exist before what it refers to, so the hook's
		// header comes first, then each new value with the recursion flag.
		if !recursed {
			if largeStr {
				e.buf = append(e.buf, opLObject)
			}
			e.buf = append(e.buf, opHook)
		}
		recursed = true
		e.buf = append(e.buf, hookNeedRecurse|typ)
		t := e.tag
		if err := e.referent(r.To, ctxRef, depth+1); err != nil {
			return err
		}
		tags = append(tags, t)
	}
	idx, known := e.class(h.Class)
	flags := typ
	classLen := len(h.Class)
	if known {
		flags |= hookIdxClassname
		classLen = idx
	}
	if classLen > maxShortLen {
		flags |= hookLargeClassLen
	}
	if len(h.Frozen) > maxShortLen {
		flags |= hookLargeStrLen
	}
	largeIDs := false
	for _, t := range tags {
		if t > math.MaxUint32 {
			largeIDs = true
		}
	}
	if len(tags) > 0 {
		flags |= hookHasList
	}
	if len(tags) > maxShortLen || largeIDs {
		flags |= hookLargeListLen
	}
	if !recursed {
		if largeStr {
			e.buf = append(e.buf, opLObject)
		}
		e.buf = append(e.buf, opHook)
	}
	e.buf = append(e.buf, flags)
	if flags&hookLargeClassLen != 0 {
		e.length(classLen)
	} else {
		e.buf = append(e.buf, byte(classLen))
	}
	if !known {
		e.buf = append(e.buf, h.Class...)
	}
	switch {
	case largeStr:
		e.length64(uint64(len(h.Frozen)))
	case flags&hookLargeStrLen != 0:
		e.length(len(h.Frozen))
	default:
		e.buf = append(e.buf, byte(len(h.Frozen)))
	}
	e.buf = append(e.buf, h.Frozen...)
	if len(tags) == 0 {
		return nil
	}
	switch {
	case largeIDs:
		e.length(-len(tags))
	case flags&hookLargeListLen != 0:
		e.length(len(tags))
	default:
		e.buf = append(e.buf, byte(len(tags)))
	}
	for _, t := range tags {
		if largeIDs {
			e.length64(t)
		} else {
			e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(t))
		}
	}
	return nil
}
