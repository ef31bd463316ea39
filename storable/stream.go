package storable

import (
	"io"

	"github.com/goimp/imprpc/perl"
)

// A Decoder reads Storable images from an input stream: in-memory images
// (freeze, nfreeze) one after the other, or a file written by store or
// nstore. Each Decode reads exactly one image and never a byte past it, so
// other data may follow in the stream. A Decoder reads the stream in
// small pieces; give it a buffered reader (bufio.Reader) when the stream
// is not in memory.
type Decoder struct {
	m      *decMode
	r      io.Reader
	buf    []byte
	n      int64
	header Header
}

// NewDecoder returns a Decoder reading from r with the default DecOptions.
func NewDecoder(r io.Reader) *Decoder { return defaultDecMode.NewDecoder(r) }

func (m *decMode) NewDecoder(r io.Reader) *Decoder { return &Decoder{m: m, r: r} }

// Decode reads the next image and stores its value in the value pointed to
// by v, like Unmarshal. At the end of the stream, before any byte of an
// image, it returns io.EOF.
func (dec *Decoder) Decode(v any) error {
	pv, err := dec.DecodeValue()
	if err != nil {
		return err
	}
	return dec.m.store(pv, v)
}

// DecodeValue reads the next image and returns its value. At the end of
// the stream, before any byte of an image, it returns io.EOF.
func (dec *Decoder) DecodeValue() (perl.Value, error) {
	d := dec.m.newState(dec.buf[:0], dec.r)
	defer d.release()
	err := d.image()
	dec.n += int64(len(d.data))
	if cap(d.data) <= 1<<20 {
		dec.buf = d.data[:0]
	}
	if err != nil {
		return nil, err
	}
	dec.header = d.header
	return d.root, nil
}

// Header returns the header of the image decoded last.
func (dec *Decoder) Header() Header { return dec.header }

// InputOffset returns the number of bytes read from the stream so far.
func (dec *Decoder) InputOffset() int64 { return dec.n }

// An Encoder writes Storable images to an output stream, one per Encode.
type Encoder struct {
	m   *encMode
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w with the default EncOptions:
// in-memory images in network order, as nfreeze writes them. Use
// EncOptions{Format: FileImage}.EncMode() for files that Perl's retrieve
// reads.
func NewEncoder(w io.Writer) *Encoder { return defaultEncMode.NewEncoder(w) }

func (m *encMode) NewEncoder(w io.Writer) *Encoder { return &Encoder{m: m, w: w} }

// Encode writes the image of v, like Marshal.
func (enc *Encoder) Encode(v any) error {
	pv, err := toValue(v)
	if err != nil {
		return err
	}
	return enc.EncodeValue(pv)
}

// EncodeValue writes the image of a perl.Value.
func (enc *Encoder) EncodeValue(v perl.Value) error {
	b, err := enc.m.AppendValue(enc.buf[:0], v)
	if err != nil {
		return err
	}
	if cap(b) <= 1<<20 {
		enc.buf = b[:0]
	}
	_, err = enc.w.Write(b)
	return err
}
