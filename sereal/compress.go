package sereal

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// Decompression of document bodies. Every announced length is checked
// against MaxDecompressedSize and against what the compressed bytes can
// expand to before anything is allocated, and panics of the decompressors
// are turned into errors.

// snappyMaxRatio bounds how many bytes one compressed byte of a Snappy
// block can stand for: a 3-byte copy element writes at most 64 bytes.
const snappyMaxRatio = 22

// zlibMaxRatio bounds the expansion of deflate: 258 bytes per 2 bits.
const zlibMaxRatio = 1032

var zlibReaders sync.Pool

// decompress returns the decompressed body of the compressed document doc
// (whose header is h), using buf for the output when it is large enough.
func (m *decMode) decompress(doc []byte, h *docHeader, buf []byte) (body []byte, err error) {
	limit := m.opts.MaxDecompressedSize
	blob := doc[h.blobAt:h.end]
	defer func() {
		if r := recover(); r != nil {
			body, err = nil, m.corrupt(h, fmt.Sprint("decompressor failed: ", r))
		}
	}()
	switch h.docType {
	case docSnappy, docSnappyIncr:
		n, err := snappy.DecodedLen(blob)
		if err != nil {
			return nil, m.corrupt(h, "bad Snappy block: "+err.Error())
		}
		if n > limit {
			return nil, &LimitError{Offset: int64(h.blobAt), Limit: "MaxDecompressedSize", Max: int64(limit), Got: int64(n)}
		}
		if n > snappyMaxRatio*len(blob)+64 {
			return nil, m.corrupt(h, "Snappy block announces more than it can hold")
		}
		out, err := snappy.Decode(grow(buf, n), blob)
		if err != nil {
			return nil, m.corrupt(h, "bad Snappy block: "+err.Error())
		}
		return out, nil
	case docZlib:
		n := h.rawLen
		if n > limit {
			return nil, &LimitError{Offset: int64(h.bodyAt), Limit: "MaxDecompressedSize", Max: int64(limit), Got: int64(n)}
		}
		if n > zlibMaxRatio*len(blob)+64 {
			return nil, m.corrupt(h, "zlib body announces more than it can hold")
		}
		return inflate(grow(buf, n), blob, h, m)
	default: // docZstd
		dec, err := m.zstdDecoder()
		if err != nil {
			return nil, err
		}
		out, err := dec.DecodeAll(blob, buf[:0])
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, &LimitError{Offset: int64(h.blobAt), Limit: "MaxDecompressedSize", Max: int64(limit)}
		}
		if err != nil {
			return nil, m.corrupt(h, "bad zstd body: "+err.Error())
		}
		if len(out) > limit {
			return nil, &LimitError{Offset: int64(h.blobAt), Limit: "MaxDecompressedSize", Max: int64(limit), Got: int64(len(out))}
		}
		return out, nil
	}
}

func (m *decMode) corrupt(h *docHeader, msg string) error {
	return &SyntaxError{Offset: int64(h.blobAt), Tag: noTag, Msg: msg}
}

// inflate decompresses the zlib stream blob into out, which must come out
// exactly full.
func inflate(out, blob []byte, h *docHeader, m *decMode) ([]byte, error) {
	src := bytes.NewReader(blob)
	var zr io.ReadCloser
	if r, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(src, nil); err != nil {
			return nil, m.corrupt(h, "bad zlib body: "+err.Error())
		}
		zr = r
	} else {
		r, err := zlib.NewReader(src)
		if err != nil {
			return nil, m.corrupt(h, "bad zlib body: "+err.Error())
		}
		zr = r
	}
	defer zlibReaders.Put(zr)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, m.corrupt(h, "bad zlib body: "+err.Error())
	}
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || err != io.EOF {
		if err != nil && err != io.EOF {
			return nil, m.corrupt(h, "bad zlib body: "+err.Error())
		}
		return nil, m.corrupt(h, "zlib body longer than it announces")
	}
	return out, nil
}

func (m *decMode) zstdDecoder() (*zstd.Decoder, error) {
	m.zstdOnce.Do(func() {
		m.zstd, m.zstdErr = zstd.NewReader(nil,
			zstd.WithDecoderMaxMemory(uint64(m.opts.MaxDecompressedSize)),
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderLowmem(true))
	})
	return m.zstd, m.zstdErr
}

// grow returns buf resliced to length n, reallocated if it is too small.
func grow(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]byte, n)
}

// Compression of document bodies.

var zlibWriters [10]sync.Pool

// compressBody returns the compressed form of body, framed for a document
// of type docType (length varints included), appended to dst.
func (m *encMode) compressBody(dst, body []byte) ([]byte, error) {
	switch m.opts.Compression {
	case Snappy:
		n := snappy.MaxEncodedLen(len(body))
		if n < 0 {
			return dst, errors.New("sereal: body too large for Snappy")
		}
		scratch := getBuf(n)
		c := snappy.Encode((*scratch)[:n], body)
		dst = appendVarint(dst, uint64(len(c)))
		dst = append(dst, c...)
		putBuf(scratch)
		return dst, nil
	case Zlib:
		var out bytes.Buffer
		out.Grow(len(body)/2 + 64)
		level := m.opts.CompressLevel
		zw, ok := zlibWriters[level].Get().(*zlib.Writer)
		if ok {
			zw.Reset(&out)
		} else {
			var err error
			if zw, err = zlib.NewWriterLevel(&out, level); err != nil {
				return dst, err
			}
		}
		if _, err := zw.Write(body); err != nil {
			return dst, err
		}
		if err := zw.Close(); err != nil {
			return dst, err
		}
		zlibWriters[level].Put(zw)
		dst = appendVarint(dst, uint64(len(body)))
		dst = appendVarint(dst, uint64(out.Len()))
		return append(dst, out.Bytes()...), nil
	default: // Zstd
		enc, err := m.zstdEncoder()
		if err != nil {
			return dst, err
		}
		scratch := getBuf(len(body) + 64)
		c := enc.EncodeAll(body, (*scratch)[:0])
		dst = appendVarint(dst, uint64(len(c)))
		dst = append(dst, c...)
		*scratch = c
		putBuf(scratch)
		return dst, nil
	}
}

func (m *encMode) zstdEncoder() (*zstd.Encoder, error) {
	m.zstdOnce.Do(func() {
		// Single segment frames carry the content size, which Perl's
		// decoder needs.
		m.zstd, m.zstdErr = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(m.opts.CompressLevel)),
			zstd.WithEncoderConcurrency(1),
			zstd.WithSingleSegment(true))
	})
	return m.zstd, m.zstdErr
}

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func getBuf(n int) *[]byte {
	p := bufPool.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	*p = (*p)[:n]
	return p
}

func putBuf(p *[]byte) {
	if cap(*p) <= 4<<20 {
		bufPool.Put(p)
	}
}
