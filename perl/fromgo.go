package perl

import (
	"encoding"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Marshaler is implemented by Go types that turn themselves into Perl
// values for FromGo. MarshalPerl returns the value as it stands in an
// array element or hash value (a list as a perl.Ref to a perl.Array).
type Marshaler interface {
	MarshalPerl() (Value, error)
}

// Unmarshaler is implemented by Go types that read themselves from a Perl
// value for ToGo. UnmarshalPerl must copy what it keeps of v's byte
// slices if the caller may reuse them.
type Unmarshaler interface {
	UnmarshalPerl(v Value) error
}

// GoOptions control FromGo and ToGo. The zero value is ready to use.
type GoOptions struct {
	// TagKey is the struct tag key that names fields, such as
	// "storable" or "sereal" (`storable:"name,omitempty"`); "" means
	// "perl".
	TagKey string
	// MaxDepth is how deeply Go values may nest (each slice, map,
	// struct, pointer or interface is a level); 0 means 10000. Cycles
	// through pointers, maps and slices are kept as cycles and do not
	// count against it.
	MaxDepth int
}

const defaultMaxDepth = 10000

func (o GoOptions) tagKey() string {
	if o.TagKey == "" {
		return "perl"
	}
	return o.TagKey
}

func (o GoOptions) maxDepth() int {
	if o.MaxDepth <= 0 {
		return defaultMaxDepth
	}
	return o.MaxDepth
}

// FromGo returns the Perl value of the Go value x, by the table in the
// package documentation. The result is a root: a Go slice, array, map or
// struct (or a Marshaler's reference to an array or hash) gives the
// *Array or *Hash itself, as the root of a Storable image holds it;
// nested ones are perl.Refs to them. A perl.Value given as x is returned
// unchanged. FromGo does not copy byte slices: the result shares them
// with x.
func FromGo(x any, opts GoOptions) (Value, error) {
	if v, ok := x.(Value); ok {
		return v, nil
	}
	e := fromGo{tagKey: opts.tagKey(), maxDepth: opts.maxDepth()}
	v, err := e.any(x, 0)
	if err != nil {
		return nil, finishPath(err)
	}
	if r, ok := v.(Ref); ok {
		switch r.To.(type) {
		case *Array, *Hash:
			return r.To, nil
		}
	}
	return v, nil
}

type fromGo struct {
	tagKey   string
	maxDepth int
	// Referents made for Go values that have an identity (pointers,
	// maps, slices), so that shared Go values stay shared and cycles
	// stay cycles: the first few in an array, the rest in a map.
	few  [8]seenReferent
	nfew int
	seen map[identity]Referent
}

type seenReferent struct {
	id identity
	r  Referent
}

type identity struct {
	ptr uintptr
	len int // slices: the length, for a slice and its prefix share ptr
	t   reflect.Type
}

var (
	valueType       = reflect.TypeFor[Value]()
	referentType    = reflect.TypeFor[Referent]()
	marshalerType   = reflect.TypeFor[Marshaler]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	textMarshalType = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// element returns a perl.Value as it stands in an element: a referent
// other than *Scalar becomes a reference to it.
func element(v Value) Value {
	switch v.(type) {
	case *Array, *Hash, *Regexp, *Hook:
		if IsNil(v) {
			return Undef{}
		}
		return Ref{To: v.(Referent)}
	case nil:
		return Undef{}
	}
	return v
}

// any converts the common types with a type switch and leaves the rest to
// reflection.
func (e *fromGo) any(x any, depth int) (Value, error) {
	if v, ok := flatScalar(x); ok {
		return v, nil
	}
	switch x := x.(type) {
	case Value:
		return element(x), nil
	case Marshaler:
		return e.marshaler(x, reflect.TypeOf(x))
	case []any:
		// The arguments of an RPC: usually flat, so no reflection.
		if x == nil {
			return Undef{}, nil
		}
		a := &Array{Elems: make([]Value, len(x))}
		for i, el := range x {
			v, ok := flatScalar(el)
			if !ok {
				return e.reflect(reflect.ValueOf(x), depth)
			}
			a.Elems[i] = v
		}
		return Ref{To: a}, nil
	case encoding.TextMarshaler:
		return e.text(x, reflect.TypeOf(x))
	}
	return e.reflect(reflect.ValueOf(x), depth)
}

// flatScalar converts the Go scalars that need no walk; ok is false for
// anything else.
func flatScalar(x any) (Value, bool) {
	switch x := x.(type) {
	case nil:
		return Undef{}, true
	case Undef, Bool, Int, Uint, Float, Bytes, String:
		return x.(Value), true
	case bool:
		return Bool(x), true
	case int:
		return Int(x), true
	case int64:
		return Int(x), true
	case int32:
		return Int(x), true
	case uint64:
		return uintValue(x), true
	case uint:
		return uintValue(uint64(x)), true
	case uint32:
		return Int(x), true
	case float64:
		return Float(x), true
	case string:
		return Str(x), true
	case []byte:
		return Bytes(x), true
	}
	return nil, false
}

func uintValue(u uint64) Value {
	if u > math.MaxInt64 {
		return Uint(u)
	}
	return Int(u)
}

func (e *fromGo) marshaler(m Marshaler, t reflect.Type) (Value, error) {
	v, err := m.MarshalPerl()
	if err != nil {
		return nil, &MarshalerError{GoType: t, Err: err}
	}
	return element(v), nil
}

func (e *fromGo) text(m encoding.TextMarshaler, t reflect.Type) (Value, error) {
	b, err := m.MarshalText()
	if err != nil {
		return nil, &MarshalerError{GoType: t, Err: err}
	}
	return Str(string(b)), nil
}

func (e *fromGo) tooDeep(t reflect.Type) error {
	return &UnsupportedTypeError{GoType: t, Msg: "nested more than " + strconv.Itoa(e.maxDepth) + " levels deep"}
}

// reflect converts any Go value by its kind.
func (e *fromGo) reflect(v reflect.Value, depth int) (Value, error) {
	if !v.IsValid() {
		return Undef{}, nil
	}
	t := v.Type()
	if depth >= e.maxDepth {
		return nil, e.tooDeep(t)
	}
	if v.Kind() != reflect.Interface && v.CanInterface() {
		// Methods with value receivers, and with pointer receivers
		// where the value is addressable.
		switch {
		case t.Implements(valueType):
			if v.Kind() == reflect.Pointer && v.IsNil() {
				return Undef{}, nil
			}
			return element(v.Interface().(Value)), nil
		case t.Implements(marshalerType):
			if v.Kind() == reflect.Pointer && v.IsNil() {
				return Undef{}, nil
			}
			return e.marshaler(v.Interface().(Marshaler), t)
		case v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType):
			return e.marshaler(v.Addr().Interface().(Marshaler), t)
		case t.Implements(textMarshalType):
			if v.Kind() == reflect.Pointer && v.IsNil() {
				return Undef{}, nil
			}
			return e.text(v.Interface().(encoding.TextMarshaler), t)
		case v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalType):
			return e.text(v.Addr().Interface().(encoding.TextMarshaler), t)
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		return Bool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Int(v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintValue(v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return Float(v.Float()), nil
	case reflect.String:
		return Str(v.String()), nil
	case reflect.Interface:
		if v.IsNil() {
			return Undef{}, nil
		}
		return e.reflect(v.Elem(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			return Undef{}, nil
		}
		return e.pointer(v, depth)
	case reflect.Slice:
		if isBytes(t) {
			return Bytes(v.Bytes()), nil
		}
		if v.IsNil() {
			return Undef{}, nil
		}
		return e.array(v, e.sliceIdentity(v), depth)
	case reflect.Array:
		if isBytes(t) {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return Bytes(b), nil
		}
		return e.array(v, identity{}, depth)
	case reflect.Map:
		if v.IsNil() {
			return Undef{}, nil
		}
		return e.hashFromMap(v, identity{ptr: uintptr(v.UnsafePointer()), t: t}, depth)
	case reflect.Struct:
		return e.hashFromStruct(v, identity{}, depth)
	}
	return nil, &UnsupportedTypeError{GoType: t}
}

// isBytes reports whether t is a slice or array of bytes that shows as a
// Perl byte string: its elements are bytes without methods of their own.
func isBytes(t reflect.Type) bool {
	el := t.Elem()
	return el.Kind() == reflect.Uint8 && !el.Implements(marshalerType) && !reflect.PointerTo(el).Implements(marshalerType) &&
		!el.Implements(valueType)
}

func (e *fromGo) sliceIdentity(v reflect.Value) identity {
	if v.Len() == 0 || v.Type().Elem().Size() == 0 {
		return identity{} // empty slices may all share one address
	}
	return identity{ptr: uintptr(v.UnsafePointer()), len: v.Len(), t: v.Type()}
}

// pointer converts what a non-nil pointer points at. A pointer to an
// aggregate has an identity: the same pointer twice gives one referent.
func (e *fromGo) pointer(v reflect.Value, depth int) (Value, error) {
	el := v.Elem()
	id := identity{ptr: v.Pointer(), t: v.Type()}
	switch el.Kind() {
	case reflect.Struct:
		if el.Type().Implements(marshalerType) || el.Type().Implements(textMarshalType) || el.Type().Implements(valueType) {
			break
		}
		return e.hashFromStruct(el, id, depth+1)
	case reflect.Array:
		if isBytes(el.Type()) {
			break
		}
		return e.array(el, id, depth+1)
	}
	return e.reflect(el, depth+1)
}

// known returns the reference to the referent already made for id.
func (e *fromGo) known(id identity) (Value, bool) {
	if id.t == nil {
		return nil, false
	}
	for _, s := range e.few[:e.nfew] {
		if s.id == id {
			return Ref{To: s.r}, true
		}
	}
	if r, ok := e.seen[id]; ok {
		return Ref{To: r}, true
	}
	return nil, false
}

func (e *fromGo) remember(id identity, r Referent) {
	switch {
	case id.t == nil:
	case e.nfew < len(e.few):
		e.few[e.nfew] = seenReferent{id, r}
		e.nfew++
	default:
		if e.seen == nil {
			e.seen = make(map[identity]Referent)
		}
		e.seen[id] = r
	}
}

func (e *fromGo) array(v reflect.Value, id identity, depth int) (Value, error) {
	if ref, ok := e.known(id); ok {
		return ref, nil
	}
	a := &Array{Elems: make([]Value, v.Len())}
	e.remember(id, a)
	for i := range a.Elems {
		el, err := e.reflect(v.Index(i), depth+1)
		if err != nil {
			return nil, atIndex(err, i)
		}
		a.Elems[i] = el
	}
	return Ref{To: a}, nil
}

func (e *fromGo) hashFromMap(v reflect.Value, id identity, depth int) (Value, error) {
	if ref, ok := e.known(id); ok {
		return ref, nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		k, err := e.mapKey(iter.Key())
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{k, iter.Value()})
	}
	// Sorted keys, so that the same map always encodes the same.
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	h := &Hash{Entries: make([]HashEntry, len(entries))}
	e.remember(id, h)
	for i, en := range entries {
		val, err := e.reflect(en.val, depth+1)
		if err != nil {
			return nil, atKey(err, en.key)
		}
		h.Entries[i] = HashEntry{Key: en.key, UTF8: keyIsUTF8(en.key), Value: val}
	}
	return Ref{To: h}, nil
}

// mapKey returns the hash key for a Go map key: a string as it is, an
// integer in decimal, or a TextMarshaler's text.
func (e *fromGo) mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.Type().Implements(textMarshalType) {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return "", &MarshalerError{GoType: k.Type(), Err: err}
		}
		return string(b), nil
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", &UnsupportedTypeError{GoType: k.Type(), Msg: "map keys must be strings, integers or encoding.TextMarshalers"}
}

func (e *fromGo) hashFromStruct(v reflect.Value, id identity, depth int) (Value, error) {
	if ref, ok := e.known(id); ok {
		return ref, nil
	}
	info := structInfo(v.Type(), e.tagKey)
	h := &Hash{Entries: make([]HashEntry, 0, len(info.fields))}
	e.remember(id, h)
	for i := range info.fields {
		f := &info.fields[i]
		fv, ok := fieldValue(v, f.index)
		if !ok || f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZeroValue(fv) {
			continue
		}
		val, err := e.reflect(fv, depth+1)
		if err != nil {
			return nil, atKey(err, f.name)
		}
		h.Entries = append(h.Entries, HashEntry{Key: f.name, UTF8: keyIsUTF8(f.name), Value: val})
	}
	return Ref{To: h}, nil
}

// fieldValue returns the field at index, or false when an embedded
// pointer on the way is nil.
func fieldValue(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZeroValue is encoding/json's omitzero test: an IsZero method if the
// type has one, else the zero value.
func isZeroValue(v reflect.Value) bool {
	if !v.CanInterface() {
		return v.IsZero()
	}
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}
