package sereal

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/goimp/imprpc/internal/hashkey"
	"github.com/goimp/imprpc/internal/perlmem"
	"github.com/goimp/imprpc/perl"
)

// decoder reads the items of one document body into perl values.
type decoder struct {
	b        []byte // the body: from its first byte to the end of the input
	pos      int
	bias     int   // an offset o of the document refers to b[o-bias]
	docOff   int64 // position of b[0] in the document, for errors
	opts     *DecOptions
	inflated bool // b was decompressed: errors say so
	alias    bool // perl.Bytes may share b

	depth   int
	decoded int // bytes of strings decoded so far (MaxDecodedSize)

	tracked map[int]perl.Referent // items with the track flag, by index in b
	classes map[int]string        // class names of OBJECT tags, by index in b
	copies  *[32]copyEntry        // strings read through COPY, by index in b
	mem     perlmem.Allocator     // the memory of the decoded values
}

// sizeMem tells the allocator how much the strings of the body can
// need: at most the body's size when they are copied.
func (d *decoder) sizeMem() {
	if !d.alias {
		d.mem.Reset(len(d.b))
	}
}

func (d *decoder) syntax(at int, tag int, msg string) error {
	if d.inflated {
		msg += " (in the decompressed body)"
	}
	return &SyntaxError{Offset: d.docOff + int64(at), Tag: tag, Msg: msg}
}

func (d *decoder) eof(at int, tag int) error {
	if d.inflated {
		return d.syntax(at, tag, "body ends too early")
	}
	return &SyntaxError{Offset: d.docOff + int64(at), Tag: tag, Msg: "document ends too early", eof: true}
}

func (d *decoder) limit(at int, name string, max int, got uint64) error {
	return &LimitError{Offset: d.docOff + int64(at), Limit: name, Max: int64(max), Got: clampInt64(got)}
}

func (d *decoder) unsupported(at int, tag byte, what, hint string) error {
	return &UnsupportedError{Offset: d.docOff + int64(at), Tag: int(tag), What: what, Hint: hint}
}

// varint reads a varint for the tag at index at.
func (d *decoder) varint(at int) (uint64, error) {
	b, p := d.b, d.pos
	if p < len(b) && b[p] < 0x80 {
		d.pos++
		return uint64(b[p]), nil
	}
	var x uint64
	for i := 0; i < maxVarintLen; i++ {
		if p >= len(b) {
			return 0, d.eof(p, int(d.b[at]))
		}
		c := b[p]
		p++
		if i == maxVarintLen-1 && c > 1 {
			return 0, d.syntax(at, int(d.b[at]), "varint overflows 64 bits")
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.pos = p
			return x, nil
		}
	}
	return 0, d.syntax(at, int(d.b[at]), "varint longer than 10 bytes")
}

// length reads the varint length of the string of the tag at index at and
// checks it against the input and the limits.
func (d *decoder) length(at int) (int, error) {
	n, err := d.varint(at)
	if err != nil {
		return 0, err
	}
	return d.checkLen(at, n)
}

func (d *decoder) checkLen(at int, n uint64) (int, error) {
	if n > uint64(d.opts.MaxStringLen) {
		return 0, d.limit(at, "MaxStringLen", d.opts.MaxStringLen, n)
	}
	if n > uint64(len(d.b)-d.pos) {
		return 0, d.eof(len(d.b), int(d.b[at]))
	}
	d.decoded += int(n)
	if d.decoded > d.opts.MaxDecodedSize {
		return 0, d.limit(at, "MaxDecodedSize", d.opts.MaxDecodedSize, uint64(d.decoded))
	}
	return int(n), nil
}

// offset reads the varint offset of a REFP, ALIAS, COPY or OBJECTV tag at
// index at and returns the index it refers to, which must come before the
// current position.
func (d *decoder) offset(at int) (int, error) {
	o, err := d.varint(at)
	if err != nil {
		return 0, err
	}
	if o < uint64(d.bias) || o-uint64(d.bias) >= uint64(d.pos) {
		return 0, d.syntax(at, int(d.b[at]), "offset "+strconv.FormatUint(o, 10)+" does not point back into the body")
	}
	return int(o) - d.bias, nil
}

func (d *decoder) enterIf(level bool, at int) error {
	if !level {
		return nil
	}
	return d.enter(at)
}

func (d *decoder) leaveIf(level bool) {
	if level {
		d.depth--
	}
}

func (d *decoder) enter(at int) error {
	d.depth++
	if d.depth > d.opts.MaxDepth {
		return d.limit(at, "MaxDepth", d.opts.MaxDepth, 0)
	}
	return nil
}

// track registers r as the item at the indexes at and padAt that are not
// negative.
func (d *decoder) track(at, padAt int, r perl.Referent) {
	if at < 0 && padAt < 0 {
		return
	}
	if d.tracked == nil {
		d.tracked = make(map[int]perl.Referent)
	}
	if at >= 0 {
		d.tracked[at] = r
	}
	if padAt >= 0 {
		d.tracked[padAt] = r
	}
}

// target returns the tracked item a REFP or ALIAS tag at index at refers
// to.
func (d *decoder) target(at int) (perl.Referent, error) {
	i, err := d.offset(at)
	if err != nil {
		return nil, err
	}
	r, ok := d.tracked[i]
	if !ok {
		return nil, d.syntax(at, int(d.b[at]), "offset "+strconv.Itoa(i+d.bias)+" refers to no tracked item")
	}
	return r, nil
}

// skipPad moves past PAD tags and returns the index of the next tag, and
// the index of a PAD with the track flag before it, or -1. Such a PAD is
// the WEAKEN tag of a tracked weak reference that Perl's encoder turned
// into PAD; what it tracks is the item after it.
func (d *decoder) skipPad() (at, padAt int, err error) {
	padAt = -1
	for d.pos < len(d.b) && d.b[d.pos]&^trackFlag == tagPad {
		if d.b[d.pos] != tagPad && padAt < 0 {
			padAt = d.pos
		}
		d.pos++
	}
	if d.pos >= len(d.b) {
		return 0, 0, d.eof(d.pos, noTag)
	}
	return d.pos, padAt, nil
}

// value decodes the item at the current position as a value: the root, an
// array element or a hash value (slot), or the item of OBJECT and WEAKEN.
// A tracked scalar comes back as the *perl.Scalar that later references
// and aliases share.
func (d *decoder) value(slot bool) (perl.Value, error) {
	at, padAt, err := d.skipPad()
	if err != nil {
		return nil, err
	}
	tag := d.b[at]
	d.pos++
	if tag < tagVarint && padAt < 0 { // the most common case first
		return smallInts[tag], nil
	}
	if tag&trackFlag == 0 && padAt < 0 {
		return d.plain(at, tag, slot)
	}
	switch t := tag &^ trackFlag; t {
	case tagArray, tagHash, tagRegexp:
		var ref perl.Value
		if _, err := d.container(at, t, padAt, true, &ref); err != nil {
			return nil, err
		}
		return ref, nil
	default:
		return d.scalar(at, padAt, t, slot)
	}
}

// smallInts are the values of the tags POS_0 to NEG_1, boxed once: Go
// boxes small non-negative integers without allocating, but not negative
// ones.
var smallInts = func() (v [tagVarint]perl.Value) {
	for t := range v {
		v[t] = perl.Int(t)
		if t >= tagNeg16 {
			v[t] = perl.Int(t - 32)
		}
	}
	return v
}()

// scalar decodes the rest of the item with tag t, read at index at, into
// a *perl.Scalar tracked at the indexes at and padAt that are not
// negative.
func (d *decoder) scalar(at, padAt int, t byte, slot bool) (*perl.Scalar, error) {
	s := &perl.Scalar{}
	d.track(at, padAt, s)
	v, err := d.plain(d.pos-1, t, slot)
	if err != nil {
		return nil, err
	}
	if sv, ok := v.(*perl.Scalar); ok {
		// OBJECT or WEAKEN of a tracked item: Perl reads both into the
		// one scalar.
		d.track(at, padAt, sv)
		return sv, nil
	}
	s.Value = v
	return s, nil
}

// root decodes the root: into a value, or with elems set, as a reference
// to an array whose elements it appends to *elems.
func (d *decoder) root(elems *[]perl.Value) (perl.Value, error) {
	if elems == nil {
		return d.value(false)
	}
	var err error
	*elems, err = d.rootArray(*elems)
	return nil, err
}

// rootArray decodes a root that is a reference to an array and appends
// its elements to dst.
func (d *decoder) rootArray(dst []perl.Value) ([]perl.Value, error) {
	at, padAt, err := d.skipPad()
	if err != nil {
		return dst, err
	}
	tag := d.b[at]
	var n uint64
	switch {
	case padAt < 0 && tag >= tagArrayRef0 && tag < tagHashRef0:
		d.pos++
		n = uint64(tag - tagArrayRef0)
	case padAt < 0 && tag == tagRefN && at+1 < len(d.b) && d.b[at+1] == tagArray:
		d.pos += 2
		if n, err = d.varint(at + 1); err != nil {
			return dst, err
		}
	default:
		// Tracked, blessed or otherwise unusual: decode it all.
		v, err := d.value(false)
		if err != nil {
			return dst, err
		}
		if r, ok := v.(perl.Ref); ok {
			if a, ok := r.To.(*perl.Array); ok && a.Class == "" {
				return append(dst, a.Elems...), nil
			}
		}
		return dst, d.syntax(at, int(tag), "the root is not a reference to an array")
	}
	if n > uint64(d.opts.MaxArrayLen) {
		return dst, d.limit(at, "MaxArrayLen", d.opts.MaxArrayLen, n)
	}
	if n > uint64(len(d.b)-d.pos) {
		return dst, d.eof(len(d.b), int(tag))
	}
	if err := d.enter(at); err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, int(n))
	for range n {
		v, err := d.value(true)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	d.depth--
	return dst, nil
}

// referent decodes the item at the current position as the target of a
// REFN. For an array, hash or regexp it sets *ref to a reference to it.
func (d *decoder) referent(ref *perl.Value) (perl.Referent, error) {
	at, padAt, err := d.skipPad()
	if err != nil {
		return nil, err
	}
	tag := d.b[at]
	d.pos++
	t := tag &^ trackFlag
	if tag&trackFlag == 0 && padAt < 0 {
		at = -1 // not tracked
	}
	switch t {
	case tagArray, tagHash, tagRegexp:
		return d.container(at, t, padAt, false, ref)
	case tagAlias: // Perl refuses this; it can only mean the alias target
		r, err := d.target(d.pos - 1)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return d.scalar(at, padAt, t, false)
}

// container decodes the ARRAY, HASH or REGEXP tag t whose byte was just
// read, tracking it at the indexes at and padAt that are not negative,
// and sets *ref to a reference to it. An array or hash is a level of
// nesting (MaxDepth) when level is set: after REFN, the REFN was the
// level, as Perl counts.
func (d *decoder) container(at int, t byte, padAt int, level bool, ref *perl.Value) (perl.Referent, error) {
	tagAt := d.pos - 1
	switch t {
	case tagArray:
		n, err := d.varint(tagAt)
		if err != nil {
			return nil, err
		}
		return d.array(tagAt, n, at, padAt, level, ref)
	case tagHash:
		n, err := d.varint(tagAt)
		if err != nil {
			return nil, err
		}
		return d.hash(tagAt, n, at, padAt, level, ref)
	default:
		re := &perl.Regexp{}
		d.track(at, padAt, re)
		*ref = d.mem.Ref(perl.Ref{To: re})
		return re, d.regexp(tagAt, re)
	}
}

// plain decodes the rest of the item whose tag t (without the track flag)
// was read at index at.
func (d *decoder) plain(at int, t byte, slot bool) (perl.Value, error) {
	switch {
	case t < tagVarint:
		return smallInts[t], nil
	case t >= tagShortBinary0:
		n, err := d.checkLen(at, uint64(t-tagShortBinary0))
		if err != nil {
			return nil, err
		}
		return d.bytes(n), nil
	case t >= tagHashRef0:
		var ref perl.Value
		if _, err := d.hash(at, uint64(t-tagHashRef0), -1, -1, true, &ref); err != nil {
			return nil, err
		}
		return ref, nil
	case t >= tagArrayRef0:
		var ref perl.Value
		if _, err := d.array(at, uint64(t-tagArrayRef0), -1, -1, true, &ref); err != nil {
			return nil, err
		}
		return ref, nil
	}
	switch t {
	case tagVarint:
		u, err := d.varint(at)
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return d.mem.Uint(u), nil
		}
		return d.mem.Int(int64(u)), nil
	case tagZigzag:
		u, err := d.varint(at)
		if err != nil {
			return nil, err
		}
		return d.mem.Int(int64(u>>1) ^ -int64(u&1)), nil
	case tagFloat:
		if len(d.b)-d.pos < 4 {
			return nil, d.eof(len(d.b), int(d.b[at]))
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(d.b[d.pos:]))
		d.pos += 4
		return d.mem.Float(float64(f)), nil
	case tagDouble:
		if len(d.b)-d.pos < 8 {
			return nil, d.eof(len(d.b), int(d.b[at]))
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.pos:]))
		d.pos += 8
		return d.mem.Float(float64(f)), nil
	case tagLongDouble, tagFloat128:
		return nil, d.unsupported(at, d.b[at], tagName(t),
			"written by a Perl built with long doubles or quadmath; a Perl peer can set use_standard_double, or use the Storable wire")
	case tagUndef:
		return perl.Undef{}, nil
	case tagCanonicalUndef:
		return perl.Undef{Of: perl.UndefImmortal}, nil
	case tagTrue, tagYes:
		return perl.Bool(true), nil
	case tagFalse, tagNo:
		return perl.Bool(false), nil
	case tagBinary:
		n, err := d.length(at)
		if err != nil {
			return nil, err
		}
		return d.bytes(n), nil
	case tagStrUTF8:
		n, err := d.length(at)
		if err != nil {
			return nil, err
		}
		s := d.mem.String(d.mem.CopyString(d.b[d.pos : d.pos+n]))
		d.pos += n
		return s, nil
	case tagRefN:
		if err := d.enter(at); err != nil {
			return nil, err
		}
		var ref perl.Value
		r, err := d.referent(&ref)
		d.depth--
		if err != nil {
			return nil, err
		}
		if ref == nil {
			ref = d.mem.Ref(perl.Ref{To: r})
		}
		return ref, nil
	case tagRefP:
		r, err := d.target(at)
		if err != nil {
			return nil, err
		}
		return d.mem.Ref(perl.Ref{To: r}), nil
	case tagArray, tagHash, tagRegexp:
		// A bare array or hash where Perl holds a scalar: other writers
		// (the Go Sereal library) mean a reference to it.
		var ref perl.Value
		if _, err := d.container(-1, t, -1, true, &ref); err != nil {
			return nil, err
		}
		return ref, nil
	case tagObject, tagObjectV, tagObjectFreeze, tagObjectVFreeze:
		return d.object(at, t, slot)
	case tagWeaken:
		v, r, err := d.refItem(at, slot, "WEAKEN of an item that is not a reference")
		if err != nil {
			return nil, err
		}
		r.Weak = true
		return setRef(v, r), nil
	case tagAlias:
		r, err := d.target(at)
		if err != nil {
			return nil, err
		}
		if s, ok := r.(*perl.Scalar); ok {
			if slot {
				return s, nil
			}
			if s.Value == nil {
				return nil, d.syntax(at, int(d.b[at]), "ALIAS of an item inside itself")
			}
			return s.Value, nil
		}
		return d.mem.Ref(perl.Ref{To: r}), nil
	case tagCopy:
		it, err := d.copied(at)
		if err != nil {
			return nil, err
		}
		if it.utf8 {
			return d.mem.String(d.sharedString(it)), nil
		}
		return d.mem.Bytes(d.mem.Copy(it.raw)), nil
	}
	return nil, d.syntax(at, int(d.b[at]), "unexpected tag")
}

// bytes returns the next n bytes as a perl.Bytes: a copy, or with
// AliasInput the bytes in the body.
func (d *decoder) bytes(n int) perl.Value {
	p := d.pos
	d.pos += n
	if d.alias {
		return d.mem.Bytes(d.b[p:d.pos:d.pos])
	}
	return d.mem.Bytes(d.mem.Copy(d.b[p:d.pos]))
}

// refItem decodes the item that the tag at index at applies to, one level
// deeper, and returns it with the reference it is or holds; notRef is the
// error message when it is no reference.
func (d *decoder) refItem(at int, slot bool, notRef string) (perl.Value, perl.Ref, error) {
	if err := d.enter(at); err != nil {
		return nil, perl.Ref{}, err
	}
	v, err := d.value(slot)
	d.depth--
	if err != nil {
		return nil, perl.Ref{}, err
	}
	r, ok := refIn(v)
	if !ok {
		return nil, perl.Ref{}, d.syntax(at, int(d.b[at]), notRef)
	}
	return v, r, nil
}

// refIn returns the reference that v holds: v itself, or the value of a
// tracked scalar.
func refIn(v perl.Value) (perl.Ref, bool) {
	switch x := v.(type) {
	case perl.Ref:
		return x, true
	case *perl.Scalar:
		r, ok := x.Value.(perl.Ref)
		return r, ok
	}
	return perl.Ref{}, false
}

// setRef puts r where refIn found the reference of v.
func setRef(v perl.Value, r perl.Ref) perl.Value {
	if s, ok := v.(*perl.Scalar); ok {
		s.Value = r
		return s
	}
	return r
}

// array reads n elements into a new array (of the ARRAY or ARRAYREF tag
// at index at), which it tracks at trackAt and padAt first when they are
// not negative, and sets *ref to a reference to it.
func (d *decoder) array(at int, n uint64, trackAt, padAt int, level bool, ref *perl.Value) (*perl.Array, error) {
	if n > uint64(d.opts.MaxArrayLen) {
		return nil, d.limit(at, "MaxArrayLen", d.opts.MaxArrayLen, n)
	}
	if n > uint64(len(d.b)-d.pos) {
		return nil, d.eof(len(d.b), int(d.b[at]))
	}
	if err := d.enterIf(level, at); err != nil {
		return nil, err
	}
	var a *perl.Array
	*ref, a = d.mem.ArrayRef(int(n))
	a.Elems = a.Elems[:n]
	d.track(trackAt, padAt, a)
	for i := range a.Elems {
		v, err := d.value(true)
		if err != nil {
			return nil, err
		}
		a.Elems[i] = v
	}
	d.leaveIf(level)
	return a, nil
}

// hash reads n key/value pairs into a new hash (of the HASH or HASHREF
// tag at index at), which it tracks at trackAt and padAt first when they
// are not negative, and sets *ref to a reference to it.
func (d *decoder) hash(at int, n uint64, trackAt, padAt int, level bool, ref *perl.Value) (*perl.Hash, error) {
	if n > uint64(d.opts.MaxHashLen) {
		return nil, d.limit(at, "MaxHashLen", d.opts.MaxHashLen, n)
	}
	if n > uint64(len(d.b)-d.pos)/2 {
		return nil, d.eof(len(d.b), int(d.b[at]))
	}
	if err := d.enterIf(level, at); err != nil {
		return nil, err
	}
	var h *perl.Hash
	*ref, h = d.mem.HashRef(int(n))
	h.Entries = h.Entries[:n]
	d.track(trackAt, padAt, h)
	var keys hashkey.Set // Perl never writes a key twice
	for i := range h.Entries {
		e := &h.Entries[i]
		var err error
		if e.Key, e.UTF8, err = d.key(); err != nil {
			return nil, err
		}
		if keys.Add(h.Entries, i) >= 0 {
			return nil, d.syntax(at, int(d.b[at]), "duplicate key "+strconv.Quote(e.Text())+" in hash")
		}
		if e.Value, err = d.value(true); err != nil {
			return nil, err
		}
	}
	d.leaveIf(level)
	return h, nil
}

// key reads a hash key: a string, or a COPY of one. Keys repeat in COPY
// tags, and a repeated one is found in d.copies first.
func (d *decoder) key() (string, bool, error) {
	at := d.pos
	if at < len(d.b) && d.b[at]&^trackFlag == tagCopy {
		d.pos++
		i, err := d.offset(at)
		if err != nil {
			return "", false, err
		}
		if c, err := d.cachedCopy(at, i); c != nil || err != nil {
			if err != nil {
				return "", false, err
			}
			return c.s, c.utf8, nil
		}
		d.pos = at
	}
	it, err := d.str(true)
	if err != nil {
		return "", false, err
	}
	return d.sharedString(it), it.utf8, nil
}

// cachedCopy returns the string at index i that the COPY tag at index at
// refers to, if it was read through a COPY before, or nil.
func (d *decoder) cachedCopy(at, i int) (*copyEntry, error) {
	c := d.copies
	if c == nil || c[i%len(c)].at != i+1 {
		return nil, nil
	}
	// Read before: count it as read again (MaxDecodedSize).
	e := &c[i%len(c)]
	d.decoded += len(e.s)
	if d.decoded > d.opts.MaxDecodedSize {
		return nil, d.limit(at, "MaxDecodedSize", d.opts.MaxDecodedSize, uint64(d.decoded))
	}
	return e, nil
}

// sharedString returns a string item as a Go string. The strings of COPY
// tags (repeated hash keys, deduplicated strings) share the string of
// their first occurrence.
func (d *decoder) sharedString(it strItem) string {
	switch {
	case it.cached:
		return it.s
	case !it.copied:
		return d.mem.CopyString(it.raw)
	}
	s := d.mem.CopyString(it.raw)
	if d.copies == nil {
		d.copies = new([32]copyEntry)
	}
	d.copies[it.at%len(d.copies)] = copyEntry{at: it.at + 1, s: s, utf8: it.utf8}
	return s
}

// copyEntry remembers the string at a COPY tag's target: repeated hash
// keys refer to a few strings many times.
type copyEntry struct {
	at   int // index of the string's tag + 1, or 0
	s    string
	utf8 bool
}

// strItem is a string read from the body.
type strItem struct {
	raw    []byte // the bytes, in the body (or in s when cached)
	utf8   bool   // STR_UTF8
	at     int    // index of the string's tag (for a COPY: of the original)
	copied bool   // read through a COPY tag
	cached bool   // s holds the string, from an earlier COPY
	s      string
}

// str reads a string item (a hash key, class name or pattern): SHORT_BINARY,
// BINARY, STR_UTF8, or a COPY of one.
func (d *decoder) str(key bool) (strItem, error) {
	at := d.pos
	if at >= len(d.b) {
		return strItem{}, d.eof(at, noTag)
	}
	t := d.b[at] &^ trackFlag
	d.pos++
	var n int
	var err error
	switch {
	case t >= tagShortBinary0:
		n, err = d.checkLen(at, uint64(t-tagShortBinary0))
	case t == tagBinary || t == tagStrUTF8:
		n, err = d.length(at)
	case t == tagCopy:
		return d.copied(at)
	default:
		what := "a class name or pattern"
		if key {
			what = "a hash key"
		}
		return strItem{}, d.syntax(at, int(d.b[at]), "unexpected tag where "+what+" belongs")
	}
	if err != nil {
		return strItem{}, err
	}
	raw := d.b[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return strItem{raw: raw, utf8: t == tagStrUTF8, at: at}, nil
}

// copied reads the offset of the COPY tag at index at and the string it
// refers to. Perl's encoders write COPY only for strings, so that is all it
// may refer to here: a COPY of a container could make a small document
// decode to a huge value.
func (d *decoder) copied(at int) (strItem, error) {
	i, err := d.offset(at)
	if err != nil {
		return strItem{}, err
	}
	if i >= at {
		return strItem{}, d.syntax(at, int(d.b[at]), "COPY refers to itself")
	}
	if c, err := d.cachedCopy(at, i); c != nil || err != nil {
		if err != nil {
			return strItem{}, err
		}
		raw := unsafe.Slice(unsafe.StringData(c.s), len(c.s)) // never written
		return strItem{raw: raw, utf8: c.utf8, at: i, copied: true, cached: true, s: c.s}, nil
	}
	if !isStringTag(d.b[i]) {
		return strItem{}, d.unsupported(at, d.b[at], "COPY of "+tagName(d.b[i]&^trackFlag), "")
	}
	save := d.pos
	d.pos = i
	it, err := d.str(false)
	d.pos = save
	it.copied = true
	return it, err
}

// object decodes OBJECT, OBJECTV, OBJECT_FREEZE and OBJECTV_FREEZE at
// index at: a class name and the reference that is blessed into it.
func (d *decoder) object(at int, t byte, slot bool) (perl.Value, error) {
	var class string
	if t == tagObject || t == tagObjectFreeze {
		it, err := d.str(false)
		if err != nil {
			return nil, err
		}
		if it.utf8 && !utf8.Valid(it.raw) {
			return nil, d.syntax(it.at, int(d.b[it.at]), "class name is not valid UTF-8")
		}
		class = className(it.raw, it.utf8)
		if d.classes == nil {
			d.classes = make(map[int]string)
		}
		d.classes[it.at] = class
	} else {
		i, err := d.offset(at)
		if err != nil {
			return nil, err
		}
		c, ok := d.classes[i]
		if !ok {
			return nil, d.syntax(at, int(d.b[at]), "offset "+strconv.Itoa(i+d.bias)+" refers to no class name")
		}
		class = c
	}
	v, r, err := d.refItem(at, slot, "blessed item is not a reference")
	if err != nil {
		return nil, err
	}
	if t == tagObjectFreeze || t == tagObjectVFreeze {
		a, ok := r.To.(*perl.Array)
		if !ok {
			return nil, d.syntax(at, int(d.b[at]), "frozen object is not a reference to an array")
		}
		// What Perl's decoder makes of it with no_thaw_objects: the
		// arguments of THAW and the class name.
		a.Elems = append(a.Elems, perl.Bytes(class))
		class = thawArgsClass
	}
	perl.Bless(r.To, class)
	return v, nil
}

// thawArgsClass is the class Perl's Sereal::Decoder (no_thaw_objects)
// blesses the data of FREEZE/THAW objects into.
const thawArgsClass = "Sereal::Decoder::THAW_args"

func isStringTag(b byte) bool {
	t := b &^ trackFlag
	return t >= tagShortBinary0 || t == tagBinary || t == tagStrUTF8
}

// className returns a class name as Go text: UTF-8 names as they are, byte
// names read as Latin-1.
func className(raw []byte, utf8 bool) string {
	if utf8 {
		return string(raw)
	}
	return perl.Latin1ToUTF8(string(raw))
}

// regexp decodes the pattern and modifiers of the REGEXP tag at index at.
func (d *decoder) regexp(at int, re *perl.Regexp) error {
	if err := d.enter(at); err != nil {
		return err
	}
	it, err := d.str(false)
	if err != nil {
		return err
	}
	if d.pos >= len(d.b) {
		return d.eof(d.pos, int(d.b[at]))
	}
	ft := d.b[d.pos]
	if ft < tagShortBinary0 {
		return d.syntax(d.pos, int(ft), "regexp modifiers must be a SHORT_BINARY")
	}
	d.pos++
	n, err := d.checkLen(d.pos-1, uint64(ft-tagShortBinary0))
	if err != nil {
		return err
	}
	// The modifiers as Perl's decoder compiles them and Perl then reports
	// them: each once, in Perl's order. A UTF-8 pattern is compiled with
	// the Unicode rules, which Perl reports as "u" first, though its
	// encoder leaves the "u" out.
	var set [len(regexpModifiers)]bool
	for _, c := range d.b[d.pos : d.pos+n] {
		i := strings.IndexByte(regexpModifiers, c)
		if i < 0 {
			return d.syntax(d.pos, int(ft), "bad regexp modifier "+strconv.QuoteRune(rune(c)))
		}
		set[i] = true
	}
	d.pos += n
	var flags [1 + len(regexpModifiers)]byte
	k := 0
	if it.utf8 {
		flags[k] = 'u'
		k++
	}
	for i, on := range set {
		if on {
			flags[k] = regexpModifiers[i]
			k++
		}
	}
	re.Pattern, re.UTF8, re.Flags = string(it.raw), it.utf8, string(flags[:k])
	d.depth--
	return nil
}

// regexpModifiers are the modifiers a document may carry, in the order
// Perl reports them.
const regexpModifiers = "msixnp"
