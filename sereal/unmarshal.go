package sereal

import (
	"errors"

	"github.com/goimp/imprpc/perl"
)

// Unmarshal decodes the Sereal document in data and stores the result in
// the value pointed to by v, with the default options.
//
// With v a *perl.Value, the document is decoded into the value model of
// package perl without reflection; see the package documentation for the
// mapping. Bytes after the document are an error (see
// DecOptions.AllowTrailingData).
func Unmarshal(data []byte, v any) error {
	return defaultDecMode.Unmarshal(data, v)
}

// UnmarshalValue decodes the Sereal document in data into a perl.Value with
// the default options.
func UnmarshalValue(data []byte) (perl.Value, error) {
	return defaultDecMode.UnmarshalValue(data)
}

func (m *decMode) Unmarshal(data []byte, v any) error {
	pv, ok := v.(*perl.Value)
	if !ok {
		return unmarshalGo(m, data, v)
	}
	val, err := m.UnmarshalValue(data)
	if err != nil {
		return err
	}
	*pv = val
	return nil
}

func (m *decMode) UnmarshalValue(data []byte) (perl.Value, error) {
	if len(data) > m.opts.MaxSize && !m.opts.AllowTrailingData {
		return nil, &LimitError{Offset: 0, Limit: "MaxSize", Max: int64(m.opts.MaxSize), Got: int64(len(data))}
	}
	v, end, err := m.decodeDocument(data, nil, m.opts.AliasInput)
	if err != nil {
		return nil, err
	}
	if end != len(data) && !m.opts.AllowTrailingData {
		return nil, &SyntaxError{Offset: int64(end), Tag: noTag, Msg: "data after the end of the document"}
	}
	return v, nil
}

func (m *decMode) getScratch() *[]byte {
	if p, ok := m.bufs.Get().(*[]byte); ok {
		return p
	}
	return new([]byte)
}

// decodeDocument decodes the document at the start of data and returns its
// value and length. A compressed body is decompressed into *scratch (which
// may grow), or into a pooled buffer when scratch is nil, or when alias is
// set into memory of its own. Byte strings share data (or that memory)
// when alias is set.
func (m *decMode) decodeDocument(data []byte, scratch *[]byte, alias bool) (perl.Value, int, error) {
	return m.document(data, scratch, alias, nil)
}

// document decodes the document at the start of data, decompressing its
// body if need be, and returns its value and its length; with elems set,
// the root must be a reference to an array, whose elements it appends to
// *elems instead.
func (m *decMode) document(data []byte, scratch *[]byte, alias bool, elems *[]perl.Value) (perl.Value, int, error) {
	if len(data) > m.opts.MaxSize {
		v, n, err := m.document(data[:m.opts.MaxSize], scratch, alias, elems)
		var se *SyntaxError
		if errors.As(err, &se) && se.eof {
			err = &LimitError{Offset: 0, Limit: "MaxSize", Max: int64(m.opts.MaxSize)}
		}
		return v, n, err
	}
	h, err := parseHeader(data, m.opts.MaxSize)
	if err != nil {
		return nil, 0, fullError(err, data, m.opts.MaxSize)
	}
	d := decoder{opts: &m.opts, docOff: int64(h.bodyAt), bias: 1, alias: alias}
	if h.version == 1 {
		d.bias = h.bodyAt
	}
	if h.docType == docRaw {
		d.b = data[h.bodyAt:]
		d.sizeMem()
		v, err := d.root(elems)
		return v, h.bodyAt + d.pos, err
	}
	if h.docType == docSnappy {
		if h.end, err = snappyBlobEnd(data, h.blobAt, m.opts.MaxSize); err != nil {
			return nil, 0, fullError(err, data, m.opts.MaxSize)
		}
	}
	if h.end > len(data) {
		return nil, 0, fullError(incomplete{need: h.end}, data, m.opts.MaxSize)
	}
	// The body goes to a scratch buffer, from the Decoder or a pool,
	// unless decoded strings share it (alias).
	if scratch == nil && !alias {
		scratch = m.getScratch()
		defer m.bufs.Put(scratch)
	}
	var buf []byte
	if scratch != nil {
		buf = *scratch
	}
	body, err := m.decompress(data, &h, buf)
	if err != nil {
		return nil, 0, err
	}
	if scratch != nil && cap(body) <= 16<<20 {
		*scratch = body
	}
	d.b = body
	d.inflated = true
	d.sizeMem()
	v, err := d.root(elems)
	if err != nil {
		return nil, 0, err
	}
	if d.pos != len(d.b) && !m.opts.AllowTrailingData {
		return nil, 0, d.syntax(d.pos, noTag, "data after the end of the body")
	}
	return v, h.end, nil
}

// UnmarshalArrayRef decodes the document in data, whose root must be a
// reference to an array (every IMP RPC [op, args...] is), and appends the
// array's elements to dst: the hot path of a reader of RPCs, which can
// reuse dst from one document to the next, and neither the array nor the
// reference to it is allocated.
func UnmarshalArrayRef(data []byte, dst []perl.Value) ([]perl.Value, error) {
	return defaultDecMode.UnmarshalArrayRef(data, dst)
}

func (m *decMode) UnmarshalArrayRef(data []byte, dst []perl.Value) ([]perl.Value, error) {
	start := len(dst)
	_, end, err := m.document(data, nil, m.opts.AliasInput, &dst)
	if err == nil && end != len(data) && !m.opts.AllowTrailingData {
		err = &SyntaxError{Offset: int64(end), Tag: noTag, Msg: "data after the end of the document"}
	}
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// fullError turns the incomplete of a document that should be complete
// into a SyntaxError, or a LimitError when the document would exceed
// MaxSize.
func fullError(err error, data []byte, maxSize int) error {
	var inc incomplete
	if !errors.As(err, &inc) {
		return err
	}
	if inc.need > maxSize {
		return &LimitError{Offset: 0, Limit: "MaxSize", Max: int64(maxSize), Got: int64(inc.need)}
	}
	return &SyntaxError{Offset: int64(len(data)), Tag: noTag, Msg: "document ends too early", eof: true}
}

// UnmarshalHeader decodes the user data in the header of the document in
// data (see DecMode).
func (m *decMode) UnmarshalHeader(data []byte) (perl.Value, error) {
	h, err := parseHeader(data, m.opts.MaxSize)
	if err != nil {
		return nil, fullError(err, data, m.opts.MaxSize)
	}
	if h.version < 2 || h.suffixLen == 0 || h.bodyAt > len(data) || data[h.suffixAt]&hdrUserDataFlagBit == 0 {
		return nil, nil
	}
	d := decoder{opts: &m.opts, b: data[h.suffixAt+1 : h.bodyAt], docOff: int64(h.suffixAt + 1), bias: 1}
	v, err := d.value(false)
	if err != nil {
		return nil, err
	}
	if d.pos != len(d.b) {
		return nil, d.syntax(d.pos, noTag, "data after the end of the header's user data")
	}
	return v, nil
}
