package perl

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// ToGo stores the Perl value v in the Go value dst points to, by the table
// in the package documentation. v may be a root (an *Array or *Hash
// itself) or an element (a Ref to one); both are read alike. A referent
// reached twice and stored in Go types that have an identity (pointers,
// maps, slices) gives the same Go value twice, so cycles become cycles. A
// value that does not fit gives a *TypeError naming the Go type, the Perl
// kind and the path; ToGo stops at the first one. Byte strings stored in
// []byte or any share memory with v.
func ToGo(v Value, dst any, opts GoOptions) error {
	switch d := dst.(type) {
	case *Value:
		*d = v
		return nil
	case *any:
		t := toGo{tagKey: opts.tagKey(), maxDepth: opts.maxDepth()}
		x, err := t.natural(v, 0)
		if err != nil {
			return finishPath(err)
		}
		*d = x
		return nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("perl: ToGo needs a non-nil pointer, not %T", dst)
	}
	t := toGo{tagKey: opts.tagKey(), maxDepth: opts.maxDepth()}
	return finishPath(t.into(v, rv.Elem(), 0))
}

type toGo struct {
	tagKey   string
	maxDepth int
	// Go values made for referents, per Go type, so that a shared
	// referent gives one Go value.
	seen map[madeKey]reflect.Value
}

type madeKey struct {
	r Referent
	t reflect.Type
}

var (
	refType     = reflect.TypeFor[Ref]()
	vstringType = reflect.TypeFor[VString]()
	undefType   = reflect.TypeFor[Undef]()
	anySlice    = reflect.TypeFor[[]any]()
	anyMap      = reflect.TypeFor[map[string]any]()
)

func (t *toGo) tooDeep(v Value, typ reflect.Type) error {
	return &TypeError{GoType: typ, Kind: kindOf(v), Msg: "nested more than " + strconv.Itoa(t.maxDepth) + " levels deep"}
}

func mismatch(v Value, t reflect.Type) error {
	return &TypeError{GoType: t, Kind: kindOf(v), Msg: "cannot store " + Describe(v)}
}

func kindOf(v Value) Kind {
	if v == nil {
		return KindUndef
	}
	return v.Kind()
}

// referentOf returns what v refers to, or v itself if it is a referent.
func referentOf(v Value) (Referent, bool) {
	switch x := v.(type) {
	case Ref:
		return x.To, x.To != nil
	case Referent:
		return x, !IsNil(x)
	}
	return nil, false
}

// scalarOf returns the value of a *Scalar that stands for an element,
// and any other value as it is.
func scalarOf(v Value) Value {
	if s, ok := v.(*Scalar); ok && s != nil {
		return s.Value
	}
	return v
}

func (t *toGo) made(r Referent, typ reflect.Type) (reflect.Value, bool) {
	if t.seen == nil {
		return reflect.Value{}, false
	}
	x, ok := t.seen[madeKey{r, typ}]
	return x, ok
}

func (t *toGo) remember(r Referent, x reflect.Value) {
	if t.seen == nil {
		t.seen = make(map[madeKey]reflect.Value)
	}
	t.seen[madeKey{r, x.Type()}] = x
}

// into stores v in dst, which is settable.
func (t *toGo) into(v Value, dst reflect.Value, depth int) error {
	typ := dst.Type()
	if depth >= t.maxDepth {
		return t.tooDeep(v, typ)
	}
	// The perl types themselves take the value as it is.
	switch typ {
	case valueType:
		if v == nil {
			dst.SetZero()
		} else {
			dst.Set(reflect.ValueOf(v))
		}
		return nil
	case referentType, refType:
		r, ok := referentOf(v)
		if !ok {
			return mismatch(v, typ)
		}
		if typ == refType {
			if ref, isRef := v.(Ref); isRef {
				dst.Set(reflect.ValueOf(ref))
				return nil
			}
			dst.Set(reflect.ValueOf(Ref{To: r}))
			return nil
		}
		dst.Set(reflect.ValueOf(r))
		return nil
	case vstringType, undefType:
		if v == nil || reflect.TypeOf(v) != typ {
			return mismatch(v, typ)
		}
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	if typ.Implements(referentType) { // *Array, *Hash, *Scalar, *Regexp, *Hook
		r, ok := referentOf(v)
		if _, undef := v.(Undef); undef {
			dst.SetZero()
			return nil
		}
		if !ok || reflect.TypeOf(r) != typ {
			return mismatch(v, typ)
		}
		dst.Set(reflect.ValueOf(r))
		return nil
	}
	v = scalarOf(v)
	if typ.Kind() == reflect.Pointer {
		return t.pointer(v, dst, depth)
	}
	if reflect.PointerTo(typ).Implements(unmarshalerType) {
		if err := dst.Addr().Interface().(Unmarshaler).UnmarshalPerl(v); err != nil {
			return &MarshalerError{GoType: typ, Err: err}
		}
		return nil
	}
	if reflect.PointerTo(typ).Implements(textUnmarshType) {
		if b, ok := textOf(v); ok {
			if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(b); err != nil {
				return &MarshalerError{GoType: typ, Err: err}
			}
			return nil
		}
		if _, undef := v.(Undef); !undef {
			return mismatch(v, typ)
		}
	}
	if _, undef := v.(Undef); undef {
		dst.SetZero()
		return nil
	}
	switch typ.Kind() {
	case reflect.Interface:
		return t.iface(v, dst, depth)
	case reflect.Bool:
		dst.SetBool(truth(v))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return setInt(v, dst)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return setUint(v, dst)
	case reflect.Float32, reflect.Float64:
		return setFloat(v, dst)
	case reflect.String:
		s, ok := stringOf(v)
		if !ok {
			return mismatch(v, typ)
		}
		dst.SetString(s)
		return nil
	case reflect.Slice:
		if isBytes(typ) {
			if b, ok := textOf(v); ok {
				dst.SetBytes(b)
				return nil
			}
		}
		return t.slice(v, dst, depth)
	case reflect.Array:
		if isBytes(typ) {
			if b, ok := textOf(v); ok {
				if len(b) > dst.Len() {
					return &TypeError{GoType: typ, Kind: v.Kind(), Msg: fmt.Sprintf("%d bytes do not fit", len(b))}
				}
				dst.SetZero()
				reflect.Copy(dst, reflect.ValueOf(b))
				return nil
			}
		}
		return t.array(v, dst, depth)
	case reflect.Map:
		return t.mapOf(v, dst, depth)
	case reflect.Struct:
		return t.structOf(v, dst, depth)
	}
	return mismatch(v, typ)
}

// pointer stores v behind a pointer: undef is nil; a reference to a
// scalar gives up its layer to the pointer when the pointee is not a
// reference type; a referent gives one pointer however often it is
// reached.
func (t *toGo) pointer(v Value, dst reflect.Value, depth int) error {
	if _, undef := v.(Undef); undef {
		dst.SetZero()
		return nil
	}
	typ := dst.Type()
	r, isRef := referentOf(v)
	if isRef {
		if p, ok := t.made(r, typ); ok {
			dst.Set(p)
			return nil
		}
	}
	p := reflect.New(typ.Elem())
	if isRef {
		t.remember(r, p)
		if s, ok := r.(*Scalar); ok && s.Class == "" && !takesRefs(typ.Elem()) {
			v = s.Value
		}
	}
	if err := t.into(v, p.Elem(), depth+1); err != nil {
		return err
	}
	dst.Set(p)
	return nil
}

// takesRefs reports whether a Go type stores a reference as a reference
// (perl.Value, perl.Ref, interfaces, pointers).
func takesRefs(t reflect.Type) bool {
	return t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer || t == refType
}

func (t *toGo) iface(v Value, dst reflect.Value, depth int) error {
	x, err := t.natural(v, depth)
	if err != nil {
		return err
	}
	if x == nil {
		dst.SetZero()
		return nil
	}
	xv := reflect.ValueOf(x)
	if !xv.Type().AssignableTo(dst.Type()) {
		return mismatch(v, dst.Type())
	}
	dst.Set(xv)
	return nil
}

// natural returns the Go value ToGo stores in an empty interface.
func (t *toGo) natural(v Value, depth int) (any, error) {
	if depth >= t.maxDepth {
		return nil, t.tooDeep(v, reflect.TypeFor[any]())
	}
	switch x := v.(type) {
	case nil, Undef:
		return nil, nil
	case Bool:
		return bool(x), nil
	case Int:
		return int64(x), nil
	case Uint:
		return uint64(x), nil
	case Float:
		return float64(x), nil
	case Bytes:
		return []byte(x), nil
	case String:
		return string(x), nil
	case VString:
		return t.natural(x.Value, depth)
	case *Scalar:
		if x.Class == "" {
			return t.natural(x.Value, depth)
		}
		return x, nil
	case Ref:
		if x.To == nil {
			return nil, mismatch(v, reflect.TypeFor[any]())
		}
		switch r := x.To.(type) {
		case *Array:
			if r.Class == "" {
				return t.naturalArray(r, depth)
			}
		case *Hash:
			if r.Class == "" {
				return t.naturalHash(r, depth)
			}
		}
		return x, nil
	case *Array:
		if x.Class == "" {
			return t.naturalArray(x, depth)
		}
	case *Hash:
		if x.Class == "" {
			return t.naturalHash(x, depth)
		}
	}
	return v, nil // blessed values, regexps, hooks
}

func (t *toGo) naturalArray(a *Array, depth int) (any, error) {
	if s, ok := t.made(a, anySlice); ok {
		return s.Interface(), nil
	}
	s := make([]any, len(a.Elems))
	t.remember(a, reflect.ValueOf(s))
	for i, el := range a.Elems {
		x, err := t.natural(el, depth+1)
		if err != nil {
			return nil, atIndex(err, i)
		}
		s[i] = x
	}
	return s, nil
}

func (t *toGo) naturalHash(h *Hash, depth int) (any, error) {
	if m, ok := t.made(h, anyMap); ok {
		return m.Interface(), nil
	}
	m := make(map[string]any, len(h.Entries))
	t.remember(h, reflect.ValueOf(m))
	for _, e := range h.Entries {
		if e.Flags&KeyPlaceholder != 0 {
			continue
		}
		x, err := t.natural(e.Value, depth+1)
		if err != nil {
			return nil, atKey(err, e.Key)
		}
		m[e.Key] = x
	}
	return m, nil
}

// truth is Perl's idea of true: undef, "", "0", 0 and 0.0 are false.
func truth(v Value) bool {
	switch x := v.(type) {
	case nil, Undef:
		return false
	case Bool:
		return bool(x)
	case Int:
		return x != 0
	case Uint:
		return x != 0
	case Float:
		return x != 0
	case Bytes:
		return len(x) > 0 && string(x) != "0"
	case String:
		return x != "" && x != "0"
	case VString:
		return truth(x.Value)
	}
	return true // references
}

// textOf returns the bytes of a string (byte, UTF-8 or v-string).
func textOf(v Value) ([]byte, bool) {
	switch x := v.(type) {
	case Bytes:
		return x, true
	case String:
		return []byte(x), true
	case VString:
		return textOf(x.Value)
	}
	return nil, false
}

// stringOf returns the Go string for v: a string's bytes as they are (a
// byte string is not converted to UTF-8), a number as Perl prints it, a
// boolean as "1" or "".
func stringOf(v Value) (string, bool) {
	switch x := v.(type) {
	case Bytes:
		return string(x), true
	case String:
		return string(x), true
	case VString:
		return stringOf(x.Value)
	case Int:
		return strconv.FormatInt(int64(x), 10), true
	case Uint:
		return strconv.FormatUint(uint64(x), 10), true
	case Float:
		return FormatFloat(float64(x)), true
	case Bool:
		if x {
			return "1", true
		}
		return "", true
	}
	return "", false
}

var errNotNumber = errors.New("not a number")

// intOf returns v as an int64, or as a uint64 when it is above
// math.MaxInt64 (big is then true). Strings must be decimal integers, as
// Storable writes large integers; doubles must be integral.
func intOf(v Value) (i int64, u uint64, big bool, err error) {
	switch x := v.(type) {
	case Int:
		return int64(x), 0, false, nil
	case Uint:
		if x > math.MaxInt64 {
			return 0, uint64(x), true, nil
		}
		return int64(x), 0, false, nil
	case Bool:
		if x {
			return 1, 0, false, nil
		}
		return 0, 0, false, nil
	case Float:
		f := float64(x)
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return 0, 0, false, errNotNumber
		}
		if f >= -(1<<63) && f < 1<<63 {
			return int64(f), 0, false, nil
		}
		if f >= 0 && f < 1<<64 {
			return 0, uint64(f), true, nil
		}
		return 0, 0, false, strconv.ErrRange
	case Bytes, String, VString:
		b, _ := textOf(v)
		s := string(b)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, 0, false, nil
		}
		u, err := strconv.ParseUint(s, 10, 64)
		if err == nil {
			return 0, u, true, nil
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, 0, false, strconv.ErrRange
		}
		if len(s) > 1 && s[0] == '-' {
			if _, err := strconv.ParseUint(s[1:], 10, 64); errors.Is(err, strconv.ErrRange) {
				return 0, 0, false, strconv.ErrRange
			}
		}
	}
	return 0, 0, false, errNotNumber
}

func setInt(v Value, dst reflect.Value) error {
	i, _, big, err := intOf(v)
	if err == nil && (big || dst.OverflowInt(i)) {
		err = strconv.ErrRange
	}
	if err != nil {
		return numberError(v, dst.Type(), err)
	}
	dst.SetInt(i)
	return nil
}

func setUint(v Value, dst reflect.Value) error {
	i, u, big, err := intOf(v)
	if err == nil && !big {
		if i < 0 {
			err = strconv.ErrRange
		}
		u = uint64(i)
	}
	if err == nil && dst.OverflowUint(u) {
		err = strconv.ErrRange
	}
	if err != nil {
		return numberError(v, dst.Type(), err)
	}
	dst.SetUint(u)
	return nil
}

func setFloat(v Value, dst reflect.Value) error {
	var f float64
	switch x := v.(type) {
	case Float:
		f = float64(x)
	case Int:
		f = float64(x)
	case Uint:
		f = float64(x)
	case Bool:
		if x {
			f = 1
		}
	case Bytes, String, VString:
		b, _ := textOf(v)
		var err error
		if f, err = strconv.ParseFloat(string(b), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return numberError(v, dst.Type(), errNotNumber)
		}
	default:
		return mismatch(v, dst.Type())
	}
	if !math.IsInf(f, 0) && dst.OverflowFloat(f) {
		return numberError(v, dst.Type(), strconv.ErrRange)
	}
	dst.SetFloat(f)
	return nil
}

func numberError(v Value, t reflect.Type, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return &TypeError{GoType: t, Kind: kindOf(v), Msg: Describe(v) + " overflows"}
	}
	return mismatch(v, t)
}

// arrayOf returns the array v is or refers to.
func arrayOf(v Value) (*Array, bool) {
	r, _ := referentOf(v)
	a, ok := r.(*Array)
	return a, ok && a != nil
}

func hashOf(v Value) (*Hash, bool) {
	r, _ := referentOf(v)
	h, ok := r.(*Hash)
	return h, ok && h != nil
}

func (t *toGo) slice(v Value, dst reflect.Value, depth int) error {
	a, ok := arrayOf(v)
	if !ok {
		return mismatch(v, dst.Type())
	}
	if s, ok := t.made(a, dst.Type()); ok {
		dst.Set(s)
		return nil
	}
	s := reflect.MakeSlice(dst.Type(), len(a.Elems), len(a.Elems))
	t.remember(a, s)
	for i, el := range a.Elems {
		if err := t.into(el, s.Index(i), depth+1); err != nil {
			return atIndex(err, i)
		}
	}
	dst.Set(s)
	return nil
}

// array fills a Go array: extra Perl elements are an error, missing ones
// leave zero values.
func (t *toGo) array(v Value, dst reflect.Value, depth int) error {
	a, ok := arrayOf(v)
	if !ok {
		return mismatch(v, dst.Type())
	}
	if len(a.Elems) > dst.Len() {
		return &TypeError{GoType: dst.Type(), Kind: KindArray, Msg: fmt.Sprintf("%d elements do not fit", len(a.Elems))}
	}
	dst.SetZero()
	for i, el := range a.Elems {
		if err := t.into(el, dst.Index(i), depth+1); err != nil {
			return atIndex(err, i)
		}
	}
	return nil
}

func (t *toGo) mapOf(v Value, dst reflect.Value, depth int) error {
	h, ok := hashOf(v)
	if !ok {
		return mismatch(v, dst.Type())
	}
	typ := dst.Type()
	if m, ok := t.made(h, typ); ok {
		dst.Set(m)
		return nil
	}
	m := reflect.MakeMapWithSize(typ, len(h.Entries))
	t.remember(h, m)
	kt, vt := typ.Key(), typ.Elem()
	for _, e := range h.Entries {
		if e.Flags&KeyPlaceholder != 0 {
			continue
		}
		k := reflect.New(kt).Elem()
		if err := t.into(Bytes(e.Key), k, depth+1); err != nil {
			var te *TypeError
			if errors.As(err, &te) {
				te.Msg = "cannot use key " + strconv.Quote(e.Key) + " as a map key"
			}
			return atKey(err, e.Key)
		}
		val := reflect.New(vt).Elem()
		if err := t.into(e.Value, val, depth+1); err != nil {
			return atKey(err, e.Key)
		}
		m.SetMapIndex(k, val)
	}
	dst.Set(m)
	return nil
}

func (t *toGo) structOf(v Value, dst reflect.Value, depth int) error {
	h, ok := hashOf(v)
	if !ok {
		return mismatch(v, dst.Type())
	}
	info := structInfo(dst.Type(), t.tagKey)
	for _, e := range h.Entries {
		if e.Flags&KeyPlaceholder != 0 {
			continue
		}
		f, ok := info.lookup(e.Key)
		if !ok {
			continue
		}
		fv, ok := settableField(dst, f.index)
		if !ok {
			continue
		}
		if err := t.into(e.Value, fv, depth+1); err != nil {
			return atKey(err, e.Key)
		}
	}
	return nil
}

// settableField returns the field at index, allocating embedded pointers
// on the way; false if one cannot be allocated (unexported).
func settableField(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, v.CanSet()
}
