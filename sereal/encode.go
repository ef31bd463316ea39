package sereal

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/goimp/imprpc/perl"
)

// refState is what the encoder knows about one referent.
type refState struct {
	refs     int32 // references to it in the value (and alias visits)
	weak     bool  // one of them is weak
	strong   bool  // a strong reference or an alias visit was written
	classOut bool  // its class name was written
	off      int   // offset of its tag once written, else 0
	lastWeak int   // index in buf of the WEAKEN before its last weak reference
}

// encoder writes one document. Encoders are pooled per EncMode and keep
// their tables between documents.
type encoder struct {
	m     *encMode
	buf   []byte
	bias  int // the offset of buf[i] is i-bias
	depth int

	refIdx ptrTable // referent -> index in refs
	refs   []refState
	// visits holds, for every reference (and alias visit) in the order
	// the count pass meets them, the index of the referent's refState;
	// the write pass meets them in the same order and reads them back
	// from vpos on, without looking the referent up again.
	visits  []int32
	vpos    int
	anyWeak bool
	dedupe  bool // DedupeStrings or AliasedDedupeStrings

	keys    map[string]int // hash keys written, by offset
	ukeys   map[string]int // UTF-8 hash keys written
	classes map[string]int // class names written
	strs    map[string]int // string values written (DedupeStrings)
	ustrs   map[string]int
	// order holds, with sorted keys, the order of the entries of every
	// hash in the order the count pass meets them (which sorts them);
	// the write pass reads them back from opos on.
	order []int
	opos  int

	keyCache [64]keyCacheEntry
	keyGen   uint32
}

func (m *encMode) getEncoder() *encoder {
	e := m.pool.Get().(*encoder)
	e.m = m
	e.dedupe = m.opts.DedupeStrings || m.opts.AliasedDedupeStrings
	return e
}

func (m *encMode) putEncoder(e *encoder) {
	e.buf = nil
	e.depth = 0
	e.anyWeak = false
	e.order, e.opos = e.order[:0], 0
	if e.keyGen++; e.keyGen == 0 {
		e.keyCache = [len(e.keyCache)]keyCacheEntry{}
		e.keyGen = 1
	}
	e.visits, e.vpos = e.visits[:0], 0
	// Clearing a map takes time by its capacity, which never shrinks:
	// tables that grew large are dropped instead.
	const keep = 1024
	e.refIdx.reset()
	e.refs = e.refs[:0]
	if cap(e.refs) > maxKeptSlots {
		e.refs, e.visits, e.order = nil, nil, nil
	}
	for _, t := range [...]*map[string]int{&e.keys, &e.ukeys, &e.classes, &e.strs, &e.ustrs} {
		if len(*t) > keep {
			*t = nil
		} else {
			clear(*t)
		}
	}
	m.pool.Put(e)
}

// Marshal returns the Sereal document of v with the default options.
//
// With v a perl.Value, the document is written from the value model of
// package perl without reflection; see the package documentation for the
// mapping.
func Marshal(v any) ([]byte, error) {
	return defaultEncMode.Marshal(v)
}

// MarshalValue returns the Sereal document of v with the default options.
func MarshalValue(v perl.Value) ([]byte, error) {
	return defaultEncMode.MarshalValue(v)
}

// AppendValue appends the Sereal document of v, written with the default
// options, to dst.
func AppendValue(dst []byte, v perl.Value) ([]byte, error) {
	return defaultEncMode.AppendValue(dst, v)
}

func (m *encMode) Marshal(v any) ([]byte, error) {
	pv, ok := v.(perl.Value)
	if !ok {
		var err error
		if pv, err = m.marshalGo(v); err != nil {
			return nil, err
		}
	}
	return m.AppendValue(nil, pv)
}

func (m *encMode) MarshalValue(v perl.Value) ([]byte, error) {
	return m.AppendValue(nil, v)
}

func (m *encMode) AppendValue(dst []byte, v perl.Value) ([]byte, error) {
	e := m.getEncoder()
	defer m.putEncoder(e)
	return e.document(dst, v, nil, false)
}

func (m *encMode) AppendArrayRef(dst []byte, elems ...perl.Value) ([]byte, error) {
	e := m.getEncoder()
	defer m.putEncoder(e)
	return e.document(dst, nil, elems, true)
}

// document appends a document to dst: of v, or with elems set, of a
// reference to an array holding elems.
func (e *encoder) document(dst []byte, v perl.Value, elems []perl.Value, isArray bool) ([]byte, error) {
	start := len(dst)
	e.buf = append(dst, e.m.header...)
	bodyAt := len(e.buf)
	e.bias = bodyAt - 1
	if e.m.opts.Protocol == 1 {
		e.bias = start
	}
	var err error
	if isArray {
		err = e.rootArray(elems)
	} else {
		if err = e.count(v, 0); err == nil {
			err = e.value(v, true)
		}
	}
	if err != nil {
		return dst[:start], err
	}
	if e.anyWeak {
		e.fixWeak()
	}
	if e.m.opts.Compression != Uncompressed && len(e.buf)-bodyAt >= e.m.opts.CompressThreshold {
		if err := e.compress(start, bodyAt); err != nil {
			return dst[:start], err
		}
	}
	return e.buf, nil
}

// rootArray writes a reference to an array of elems that nothing else
// refers to.
func (e *encoder) rootArray(elems []perl.Value) error {
	for _, v := range elems {
		if err := e.count(v, 1); err != nil {
			return err
		}
	}
	if n := len(elems); n < 16 && !e.m.opts.CanonicalRefs {
		e.buf = append(e.buf, tagArrayRef0+byte(n))
	} else {
		e.buf = append(e.buf, tagRefN)
		e.buf = appendTagVarint(e.buf, tagArray, uint64(n))
	}
	return e.elems(elems)
}

// fixWeak turns the last WEAKEN before a reference into PAD where every
// reference to a referent is weak, as Perl's encoder does, so that Perl's
// decoder keeps the referent alive.
func (e *encoder) fixWeak() {
	for i := range e.refs {
		if st := &e.refs[i]; st.lastWeak > 0 && !st.strong {
			// Keep the track flag: the tag may stand for the scalar
			// holding the reference, which is referenced itself.
			e.buf[st.lastWeak] = tagPad | e.buf[st.lastWeak]&trackFlag
		}
	}
}

func (e *encoder) compress(start, bodyAt int) error {
	scratch := getBuf(0)
	defer putBuf(scratch)
	body := e.buf[bodyAt:]
	out, err := e.m.compressBody((*scratch)[:0], body)
	*scratch = out
	if err != nil {
		return err
	}
	if len(out) >= len(body) {
		return nil
	}
	e.buf = append(e.buf[:bodyAt], out...)
	typ := byte(docSnappyIncr)
	switch e.m.opts.Compression {
	case Zlib:
		typ = docZlib
	case Zstd:
		typ = docZstd
	}
	e.buf[start+4] = typ<<4 | byte(e.m.opts.Protocol)
	return nil
}

func (e *encoder) offset() int { return len(e.buf) - e.bias }

func appendVarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func appendTagVarint(b []byte, tag byte, x uint64) []byte {
	return appendVarint(append(b, tag), x)
}

// appendPV appends a string as Perl's encoder writes one: STR_UTF8 for a
// UTF-8 string, else SHORT_BINARY or BINARY.
func appendPV[S ~string | ~[]byte](b []byte, s S, isUTF8 bool) []byte {
	switch {
	case isUTF8:
		b = appendTagVarint(b, tagStrUTF8, uint64(len(s)))
	case len(s) < 32:
		b = append(b, tagShortBinary0+byte(len(s)))
	default:
		b = appendTagVarint(b, tagBinary, uint64(len(s)))
	}
	return append(b, s...)
}

func appendInt(b []byte, i int64) []byte {
	switch {
	case i >= 0 && i < 16:
		return append(b, byte(i))
	case i >= 0:
		return appendTagVarint(b, tagVarint, uint64(i))
	case i >= -16:
		return append(b, byte(tagVarint+i))
	default:
		return appendTagVarint(b, tagZigzag, uint64(i<<1)^uint64(i>>63))
	}
}

// appendFloat writes FLOAT when the value is exactly a float32 (or NaN),
// as Perl does, else DOUBLE.
func appendFloat(b []byte, f float64) []byte {
	if f32 := float32(f); float64(f32) == f || f != f {
		b = append(b, tagFloat)
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(f32))
	}
	b = append(b, tagDouble)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func (e *encoder) unsupported(v perl.Value, msg string) error {
	return &UnsupportedValueError{Value: v, Msg: msg}
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > e.m.opts.MaxDepth {
		return &LimitError{Offset: -1, Limit: "MaxDepth", Max: int64(e.m.opts.MaxDepth)}
	}
	return nil
}

// count walks v before anything is written and counts the references to
// each referent, which decides between ARRAYREF_n and REFN ARRAY, and
// between TRUE and YES.
func (e *encoder) count(v perl.Value, depth int) error {
	switch x := v.(type) {
	case perl.Ref:
		if perl.IsNil(x.To) {
			return e.unsupported(v, "a Ref without a referent")
		}
		return e.countRef(x.To, x.Weak, depth)
	case perl.VString:
		if _, nested := x.Value.(perl.VString); nested {
			return nil // refused when written
		}
		return e.count(x.Value, depth)
	case *perl.Array, *perl.Hash, *perl.Scalar, *perl.Regexp, *perl.Hook:
		r := x.(perl.Referent)
		if perl.IsNil(r) {
			return e.unsupported(v, "a nil "+v.Kind().String())
		}
		return e.countRef(r, false, depth)
	case nil:
		return e.unsupported(v, "a nil Value")
	}
	return nil
}

func (e *encoder) countRef(r perl.Referent, weak bool, depth int) error {
	key := addrOf(r)
	if i, ok := e.refIdx.get(key); ok {
		st := &e.refs[i]
		st.refs++
		st.weak = st.weak || weak
		e.visits = append(e.visits, i)
		return nil
	}
	if depth >= e.m.opts.MaxDepth {
		return &LimitError{Offset: -1, Limit: "MaxDepth", Max: int64(e.m.opts.MaxDepth)}
	}
	i := int32(len(e.refs))
	e.refIdx.put(key, i)
	e.refs = append(e.refs, refState{refs: 1, weak: weak})
	e.visits = append(e.visits, i)
	switch x := r.(type) {
	case *perl.Array:
		for _, el := range x.Elems {
			if err := e.count(el, depth+1); err != nil {
				return err
			}
		}
	case *perl.Hash:
		if e.m.opts.SortKeys == SortKeysNone {
			for i := range x.Entries {
				if err := e.countEntry(&x.Entries[i], depth); err != nil {
					return err
				}
			}
			return nil
		}
		from := len(e.order)
		for i := range x.Entries {
			e.order = append(e.order, i)
		}
		e.sortKeys(x.Entries, e.order[from:])
		for k := from; k < from+len(x.Entries); k++ {
			if err := e.countEntry(&x.Entries[e.order[k]], depth); err != nil {
				return err
			}
		}
	case *perl.Scalar:
		return e.count(x.Value, depth+1)
	case *perl.Hook:
		return e.unsupported(x, "a Storable hook object (class "+x.Class+"): Sereal has no form for it")
	}
	return nil
}

func (e *encoder) countEntry(en *perl.HashEntry, depth int) error {
	if en.Flags&perl.KeyPlaceholder != 0 {
		return nil
	}
	return e.count(en.Value, depth+1)
}

// visit returns the state of the referent of the next reference or alias
// visit, as the count pass met it.
func (e *encoder) visit() *refState {
	st := &e.refs[e.visits[e.vpos]]
	e.vpos++
	return st
}

// value writes v where Perl holds a scalar: the root, an array element or
// hash value (slot), or the value of a referenced scalar.
func (e *encoder) value(v perl.Value, slot bool) error {
	switch x := v.(type) {
	case perl.Int:
		e.buf = appendInt(e.buf, int64(x))
	case perl.Bytes:
		if e.dedupe {
			e.str(string(x), false, slot)
		} else {
			e.buf = appendPV(e.buf, x, false)
		}
	case perl.String:
		e.str(string(x), true, slot)
	case perl.Ref:
		return e.ref(x)
	case perl.Undef:
		if x.Of != perl.UndefPlain && e.m.opts.Protocol >= 3 {
			e.buf = append(e.buf, tagCanonicalUndef)
		} else {
			e.buf = append(e.buf, tagUndef)
		}
	case perl.Bool:
		e.buf = append(e.buf, e.boolTag(bool(x)))
	case perl.Uint:
		e.buf = appendTagVarint(e.buf, tagVarint, uint64(x))
	case perl.Float:
		e.buf = appendFloat(e.buf, float64(x))
	case perl.VString:
		// Sereal has no v-string: Perl's encoder writes its string.
		if _, ok := x.Value.(perl.VString); ok || x.Value == nil {
			return e.unsupported(v, "a VString whose Value is not a string")
		}
		return e.value(x.Value, slot)
	case *perl.Scalar:
		if !slot {
			return e.ref(perl.Ref{To: x})
		}
		st := e.visit()
		st.strong = true
		if st.off != 0 {
			e.buf = appendTagVarint(e.buf, tagAlias, uint64(st.off))
			e.buf[st.off+e.bias] |= trackFlag
			return nil
		}
		st.off = e.offset()
		if err := e.enter(); err != nil {
			return err
		}
		err := e.value(x.Value, false)
		e.depth--
		return err
	case *perl.Array:
		return e.ref(perl.Ref{To: x})
	case *perl.Hash:
		return e.ref(perl.Ref{To: x})
	case *perl.Regexp:
		return e.ref(perl.Ref{To: x})
	default:
		return e.unsupported(v, "a value of type "+kindOf(v))
	}
	return nil
}

func kindOf(v perl.Value) string {
	if v == nil {
		return "nil"
	}
	return v.Kind().String()
}

// boolTag is the tag of a boolean copy: NO and YES in protocol 5 (as Perl
// 5.36 writes them), else FALSE and TRUE, which every Sereal::Decoder
// reads as copies of PL_sv_no and PL_sv_yes: Perl 5.36 and later see them
// as booleans. Perl's own encoder writes "" and 1 there before protocol 5.
func (e *encoder) boolTag(b bool) byte {
	if e.m.opts.Protocol >= 5 {
		if b {
			return tagYes
		}
		return tagNo
	}
	if b {
		return tagTrue
	}
	return tagFalse
}

// str writes a string value, as a COPY or ALIAS of an earlier one when the
// options ask for it.
func (e *encoder) str(s string, isUTF8, slot bool) {
	o := &e.m.opts
	if e.dedupe && len(s) > 3 {
		t := &e.strs
		if isUTF8 {
			t = &e.ustrs
		}
		if *t == nil {
			*t = make(map[string]int)
		}
		if off, ok := (*t)[s]; ok {
			switch {
			case !o.AliasedDedupeStrings:
				e.buf = appendTagVarint(e.buf, tagCopy, uint64(off))
				return
			case slot:
				e.buf[off+e.bias] |= trackFlag
				e.buf = appendTagVarint(e.buf, tagAlias, uint64(off))
				return
			}
			// Perl's decoder accepts ALIAS only in arrays and hashes,
			// and a COPY could point at a tracked string: write it.
		} else {
			(*t)[s] = e.offset()
		}
	}
	e.buf = appendPV(e.buf, s, isUTF8)
}

// ref writes a reference.
func (e *encoder) ref(r perl.Ref) error {
	if perl.IsNil(r.To) {
		return e.unsupported(r, "a Ref without a referent")
	}
	st := e.visit()
	if r.Weak {
		st.lastWeak = len(e.buf)
		e.anyWeak = true
		e.buf = append(e.buf, tagWeaken)
	} else {
		st.strong = true
	}
	class := r.To.Blessed()
	if st.off != 0 {
		if class != "" && !st.classOut {
			// A blessed scalar written before as an array element.
			e.class(class, false)
			st.classOut = true
		}
		e.buf = appendTagVarint(e.buf, tagRefP, uint64(st.off))
		e.buf[st.off+e.bias] |= trackFlag
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	if class != "" {
		st.classOut = true
		if a, ok := r.To.(*perl.Array); ok && class == thawArgsClass && len(a.Elems) > 0 && e.m.opts.FreezeCallbacks {
			if name, ok := stringOf(a.Elems[len(a.Elems)-1]); ok {
				return e.frozen(a, name, st)
			}
		}
		e.class(class, false)
	}
	switch x := r.To.(type) {
	case *perl.Array:
		e.container(st, tagArrayRef0, tagArray, len(x.Elems), e.m.opts.CanonicalRefs)
		return e.elems(x.Elems)
	case *perl.Hash:
		return e.hash(x, st)
	case *perl.Scalar:
		e.buf = append(e.buf, tagRefN)
		st.off = e.offset()
		if st.refs == 1 {
			switch v := x.Value.(type) {
			case perl.Bool:
				if class == "" {
					// What Perl writes for \!!1 and \!!0: references
					// to the immortals.
					if v {
						e.buf = append(e.buf, tagTrue)
					} else {
						e.buf = append(e.buf, tagFalse)
					}
					return nil
				}
				if e.m.opts.Protocol < 5 {
					e.buf = append(e.buf, tagPad) // see below
				}
			case perl.Undef:
				// Perl's decoder takes REFN TRUE, FALSE and
				// CANONICAL_UNDEF for a reference to the immortal
				// itself, which cannot be blessed (it dies, and its
				// state is corrupt after that): a PAD in between makes
				// it a copy.
				if class != "" && v.Of != perl.UndefPlain && e.m.opts.Protocol >= 3 {
					e.buf = append(e.buf, tagPad)
				}
			}
		}
		return e.value(x.Value, false)
	case *perl.Regexp:
		e.buf = append(e.buf, tagRefN)
		st.off = e.offset()
		return e.regexp(x)
	}
	return e.unsupported(r, "a reference to a "+kindOf(r.To))
}

// stringOf returns the class name that ends the data of a frozen object:
// Perl's decoder puts it there as the bytes of Perl's name (UTF-8 for a
// UTF-8 name, without the UTF-8 flag).
func stringOf(v perl.Value) (string, bool) {
	switch s := v.(type) {
	case perl.Bytes:
		return string(s), true
	case perl.String:
		return string(s), true
	}
	return "", false
}

// frozen writes an array blessed into Sereal::Decoder::THAW_args, which is
// how the decoder (like Perl's with no_thaw_objects) returns a FREEZE/THAW
// object, as that object again (EncOptions.FreezeCallbacks): OBJECT_FREEZE,
// the class (the array's last element) and the other elements, the
// arguments of THAW.
func (e *encoder) frozen(a *perl.Array, class string, st *refState) error {
	e.class(class, true)
	e.buf = append(e.buf, tagRefN)
	st.off = e.offset()
	args := a.Elems[:len(a.Elems)-1]
	e.buf = appendTagVarint(e.buf, tagArray, uint64(len(args)))
	return e.elems(args)
}

func (e *encoder) elems(vs []perl.Value) error {
	for _, v := range vs {
		if err := e.value(v, true); err != nil {
			return err
		}
	}
	return nil
}

// class writes OBJECT and a class name, or OBJECTV and the offset of the
// name written before (the _FREEZE tags when freeze is set).
func (e *encoder) class(name string, freeze bool) {
	if off, ok := e.classes[name]; ok {
		tag := byte(tagObjectV)
		if freeze {
			tag = tagObjectVFreeze
		}
		e.buf = appendTagVarint(e.buf, tag, uint64(off))
		return
	}
	if e.classes == nil {
		e.classes = make(map[string]int)
	}
	tag := byte(tagObject)
	if freeze {
		tag = tagObjectFreeze
	}
	e.buf = append(e.buf, tag)
	e.classes[name] = e.offset()
	e.buf = appendPV(e.buf, name, !isASCII(name) && utf8.ValidString(name))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// container writes the start of a reference to an array or hash of n
// elements: ARRAYREF_n or HASHREF_n (short) when nothing else refers to
// it, else REFN and ARRAY or HASH (long) and n.
func (e *encoder) container(st *refState, short, long byte, n int, canonical bool) {
	if n < 16 && st.refs == 1 && !st.weak && !canonical {
		st.off = e.offset()
		e.buf = append(e.buf, short+byte(n))
		return
	}
	e.buf = append(e.buf, tagRefN)
	st.off = e.offset()
	e.buf = appendTagVarint(e.buf, long, uint64(n))
}

// hash writes the HASHREF_n or REFN HASH of h.
func (e *encoder) hash(h *perl.Hash, st *refState) error {
	n := 0
	for i := range h.Entries {
		if h.Entries[i].Flags&perl.KeyPlaceholder == 0 {
			n++
		}
	}
	e.container(st, tagHashRef0, tagHash, n, e.m.opts.CanonicalRefs || e.m.opts.CanonicalHashRefs)
	if e.m.opts.SortKeys == SortKeysNone {
		for i := range h.Entries {
			if err := e.entry(&h.Entries[i]); err != nil {
				return err
			}
		}
		return nil
	}
	from, to := e.opos, e.opos+len(h.Entries)
	e.opos = to
	for k := from; k < to; k++ {
		if err := e.entry(&h.Entries[e.order[k]]); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) entry(en *perl.HashEntry) error {
	if en.Flags&perl.KeyPlaceholder != 0 {
		return nil
	}
	k, isUTF8 := keyOf(en)
	switch e.m.opts.SortKeys {
	case SortKeysPerl, SortKeysPerlReverse:
		// Perl sorts these by key strings it writes as string values: no
		// COPY of keys, but DedupeStrings applies.
		if e.m.opts.AliasedDedupeStrings {
			e.buf = appendPV(e.buf, k, isUTF8)
		} else {
			e.str(k, isUTF8, false)
		}
	default:
		e.key(k, isUTF8)
	}
	return e.value(en.Value, true)
}

// keyOf returns a key as Perl's encoder writes it: a key stored as bytes
// that was UTF-8 (KeyWasUTF8) goes out as UTF-8 again.
func keyOf(en *perl.HashEntry) (string, bool) {
	if !en.UTF8 && en.Flags&perl.KeyWasUTF8 != 0 {
		return perl.Latin1ToUTF8(en.Key), true
	}
	return en.Key, en.UTF8
}

// key writes a hash key, or a COPY of its first occurrence in the
// document as Perl does.
func (e *encoder) key(k string, isUTF8 bool) {
	if !e.m.opts.NoSharedHashKeys && len(k) > 0 {
		// Keys are mostly the same few strings, often the very same
		// memory (constants, or keys the decoder shared): a cache by
		// address saves most lookups by content.
		p := unsafe.StringData(k)
		c := &e.keyCache[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(k)))%uintptr(len(e.keyCache))]
		if c.gen == e.keyGen && c.p == p && c.n == len(k) && c.utf8 == isUTF8 {
			e.buf = appendTagVarint(e.buf, tagCopy, uint64(c.off))
			return
		}
		t := &e.keys
		if isUTF8 {
			t = &e.ukeys
		}
		off, ok := (*t)[k]
		if !ok {
			if *t == nil {
				*t = make(map[string]int)
			}
			off = e.offset()
			(*t)[k] = off
		}
		*c = keyCacheEntry{p: p, n: len(k), utf8: isUTF8, off: off, gen: e.keyGen}
		if ok {
			e.buf = appendTagVarint(e.buf, tagCopy, uint64(off))
			return
		}
	}
	e.buf = appendPV(e.buf, k, isUTF8)
}

// keyCacheEntry is where a key of the document was first written.
type keyCacheEntry struct {
	p    *byte
	n    int
	utf8 bool
	off  int
	gen  uint32 // the document it belongs to
}

// sortKeys orders idx, indexes into es, as EncOptions.SortKeys says.
func (e *encoder) sortKeys(es []perl.HashEntry, idx []int) {
	switch e.m.opts.SortKeys {
	case SortKeysFast:
		slices.SortFunc(idx, func(i, j int) int {
			a, au := keyOf(&es[i])
			b, bu := keyOf(&es[j])
			switch {
			case len(a) != len(b):
				return len(a) - len(b)
			case au != bu:
				if au {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
	case SortKeysPerl, SortKeysPerlReverse:
		rev := 1
		if e.m.opts.SortKeys == SortKeysPerlReverse {
			rev = -1
		}
		slices.SortFunc(idx, func(i, j int) int {
			return rev * strings.Compare(es[i].Text(), es[j].Text())
		})
	}
}

// regexp writes REGEXP, the pattern and the modifiers.
func (e *encoder) regexp(re *perl.Regexp) error {
	flags, err := regexpFlags(re)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, tagRegexp)
	e.buf = appendPV(e.buf, re.Pattern, re.UTF8)
	e.buf = append(e.buf, tagShortBinary0+byte(len(flags)))
	e.buf = append(e.buf, flags...)
	return nil
}

// regexpFlags returns the modifiers of re in the order Perl writes them
// (msixxnp). The character set modifiers (u, a, l, d) are left out, as
// Perl's encoder does: its decoder refuses them and derives u from the
// pattern. Perl's decoder refuses n too, so that is an error.
func regexpFlags(re *perl.Regexp) ([]byte, error) {
	var m, s, i, x, p int
	for _, c := range re.Flags {
		switch c {
		case 'm':
			m = 1
		case 's':
			s = 1
		case 'i':
			i = 1
		case 'x':
			x = min(x+1, 2)
		case 'p':
			p = 1
		case 'u', 'a', 'l', 'd':
		case 'n':
			return nil, &UnsupportedValueError{Value: re, Msg: "a regexp with the modifier n, which Perl's Sereal::Decoder refuses"}
		default:
			return nil, &UnsupportedValueError{Value: re, Msg: "a regexp with the modifier " + string(c)}
		}
	}
	var out [6]byte
	n := 0
	for _, f := range [...]struct {
		c byte
		k int
	}{{'m', m}, {'s', s}, {'i', i}, {'x', x}, {'p', p}} {
		for ; f.k > 0; f.k-- {
			out[n] = f.c
			n++
		}
	}
	return out[:n], nil
}
