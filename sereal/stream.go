package sereal

import (
	"bytes"
	"errors"
	"io"

	"github.com/goimp/imprpc/perl"
)

// A Decoder reads Sereal documents that follow each other on a stream with
// nothing between them, as Net::IMP::Remote sends them, and decodes them
// one at a time.
//
// The Decoder reads ahead into its own buffer, as bufio.Reader does: it
// finds where each document ends by reading its tags (see DocumentLength),
// returns the documents in order, and keeps the bytes after the one it
// returns for the next call, so that nothing read is lost however the
// input is split. Buffered returns those bytes. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	m       *decMode
	r       io.Reader
	buf     []byte // buf[off:] holds unread input
	off     int
	pos     int64 // stream offset of buf[off]
	scratch []byte
	err     error // a read error, returned once the buffer is used up
	broken  error // a framing error: the stream cannot go on

	zeroReads int
}

// NewDecoder returns a Decoder reading documents from r with the default
// options.
func NewDecoder(r io.Reader) *Decoder {
	return defaultDecMode.NewDecoder(r)
}

func (m *decMode) NewDecoder(r io.Reader) *Decoder {
	return &Decoder{m: m, r: r}
}

// Decode decodes the next document into v, as Unmarshal does. At the end
// of the input it returns io.EOF; input that ends inside a document is an
// error matching io.ErrUnexpectedEOF. A document that is framed correctly
// but cannot be decoded (an unsupported tag, a limit) gives an error and
// is skipped: the next call goes on with the document after it. Errors
// give offsets from the start of the stream.
func (d *Decoder) Decode(v any) error {
	pv, ok := v.(*perl.Value)
	if !ok {
		doc, err := d.Next()
		if err != nil {
			return err
		}
		return shiftOffset(unmarshalGo(d.m, doc, v), d.pos-int64(len(doc)))
	}
	val, err := d.DecodeValue()
	if err != nil {
		return err
	}
	*pv = val
	return nil
}

// DecodeValue decodes the next document into a perl.Value.
func (d *Decoder) DecodeValue() (perl.Value, error) {
	doc, err := d.Next()
	if err != nil {
		return nil, err
	}
	v, _, err := d.m.decodeDocument(doc, &d.scratch, false)
	if err != nil {
		return nil, shiftOffset(err, d.pos-int64(len(doc)))
	}
	return v, nil
}

// Next returns the bytes of the next document without decoding it. They
// stay valid until the next call of a method of d.
func (d *Decoder) Next() ([]byte, error) {
	if d.broken != nil {
		return nil, d.broken
	}
	for {
		in := d.buf[d.off:]
		n, err := d.m.DocumentLength(in)
		if err == nil {
			d.off += n
			d.pos += int64(n)
			return in[:n:n], nil
		}
		if !errors.Is(err, ErrIncomplete) {
			d.broken = shiftOffset(err, d.pos)
			return nil, d.broken
		}
		if d.err != nil {
			if len(in) == 0 && d.err == io.EOF {
				return nil, io.EOF
			}
			if d.err == io.EOF {
				d.broken = &SyntaxError{Offset: d.pos + int64(len(in)), Tag: noTag, Msg: "stream ends inside a document", eof: true}
			} else {
				d.broken = d.err
			}
			return nil, d.broken
		}
		d.fill(n)
	}
}

// fill reads once from the input, with room for a document of at least
// need bytes, growing the buffer no faster than input arrives.
func (d *Decoder) fill(need int) {
	if d.off > 0 {
		n := copy(d.buf, d.buf[d.off:])
		d.buf = d.buf[:n]
		d.off = 0
	}
	if free := cap(d.buf) - len(d.buf); free == 0 || free < 1024 && cap(d.buf) < need {
		nb := make([]byte, len(d.buf), max(2*cap(d.buf), 4096))
		copy(nb, d.buf)
		d.buf = nb
	}
	n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
	d.buf = d.buf[:len(d.buf)+n]
	if err != nil {
		d.err = err
	} else if n == 0 {
		d.zeroReads++
		if d.zeroReads >= 100 {
			d.err = io.ErrNoProgress
		}
		return
	}
	d.zeroReads = 0
}

// Buffered returns the input read but not yet returned as a document.
// The reader is valid until the next call of a method of d.
func (d *Decoder) Buffered() io.Reader {
	return bytes.NewReader(d.buf[d.off:])
}

// InputOffset returns the stream offset just past the last document
// returned.
func (d *Decoder) InputOffset() int64 { return d.pos }

// An Encoder writes Sereal documents to a stream, one Write call per
// document.
type Encoder struct {
	m   *encMode
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing documents to w with the default
// options.
func NewEncoder(w io.Writer) *Encoder {
	return defaultEncMode.NewEncoder(w)
}

func (m *encMode) NewEncoder(w io.Writer) *Encoder {
	return &Encoder{m: m, w: w}
}

// Encode writes the document of v, as Marshal makes it.
func (e *Encoder) Encode(v any) error {
	pv, ok := v.(perl.Value)
	if !ok {
		var err error
		if pv, err = e.m.marshalGo(v); err != nil {
			return err
		}
	}
	return e.EncodeValue(pv)
}

// EncodeValue writes the document of v.
func (e *Encoder) EncodeValue(v perl.Value) error {
	b, err := e.m.AppendValue(e.buf[:0], v)
	if err != nil {
		return err
	}
	e.buf = b
	_, err = e.w.Write(b)
	return err
}
