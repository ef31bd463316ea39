package conn

import (
	"errors"
	"io"
)

// Reader reads the frames of one wire format from a byte stream, one
// message at a time, however the stream is split. It reads ahead into its
// own buffer, never allocates for a frame before its size is known and
// within Options.MaxFrameSize, and reads a large frame straight into
// memory of its own. A Reader is not safe for concurrent use.
//
// At the end of the stream between frames, ReadMessage returns io.EOF;
// inside a frame a *FrameError "eof inside operation" (which matches
// io.ErrUnexpectedEOF). See Recoverable for the errors after which
// reading can go on.
type Reader struct {
	c   codec
	r   io.Reader
	buf []byte
	lo  int   // buf[lo:hi] is read and not yet returned
	hi  int   //
	off int64 // stream offset of buf[lo]
	st  readState
	err error // sticky: a fatal error or the end of the stream
	// fast is c as a fastDecoder, or nil.
	fast fastDecoder
}

const (
	// readBufSize is the size of a Reader's buffer.
	readBufSize = 64 << 10
	// ownFrameSize is the size from which a frame is read into memory of
	// its own, which its message then shares instead of copying.
	ownFrameSize = 16 << 10
	// maxEmptyReads is how many reads returning nothing in a row a
	// Reader accepts before it gives up with io.ErrNoProgress.
	maxEmptyReads = 100
)

func newReader(c codec, r io.Reader) *Reader {
	fd, _ := c.(fastDecoder)
	return &Reader{c: c, r: r, fast: fd}
}

// advance moves past n buffered bytes of a frame.
func (r *Reader) advance(n int) {
	r.lo += n
	r.off += int64(n)
	if r.lo == r.hi {
		r.lo, r.hi = 0, 0
	}
}

// ReadMessage reads the next frame and decodes it. A set_version frame is
// returned as a *SetVersion like any other message.
func (r *Reader) ReadMessage() (Message, error) {
	if r.fast != nil && r.err == nil && r.lo < r.hi {
		if m, n, ok := r.fast.decodeFrame(r.buf[r.lo:r.hi], false); ok {
			r.advance(n)
			return m, nil
		}
	}
	frame, off, owned, err := r.next()
	if err != nil {
		return nil, err
	}
	return r.c.decode(frame, off, owned, r.st)
}

// ReadFrame returns the bytes of the next frame without decoding it: the
// Storable header and payload, or the whole Sereal document. They are
// valid until the next call of a method of r.
func (r *Reader) ReadFrame() ([]byte, error) {
	frame, _, _, err := r.next()
	return frame, err
}

// Offset returns the stream offset of the next frame: the number of bytes
// of the frames returned so far.
func (r *Reader) Offset() int64 { return r.off }

// Buffered returns the number of bytes read from the stream but not yet
// returned as frames.
func (r *Reader) Buffered() int { return r.hi - r.lo }

// BigEndian reports the byte order of a Storable stream's frame headers,
// once a frame with a known op has shown it (known is false before, and
// always on the Sereal wire).
func (r *Reader) BigEndian() (bigEndian, known bool) {
	return r.st.order == orderBE, r.st.order != 0
}

// next returns the next frame, its stream offset and whether it lives in
// memory of its own.
func (r *Reader) next() ([]byte, int64, bool, error) {
	if r.err != nil {
		return nil, r.off, false, r.err
	}
	if r.buf == nil {
		r.buf = make([]byte, readBufSize)
	}
	for {
		n, need, st, err := r.c.frameLen(r.buf[r.lo:r.hi], r.off, r.st)
		r.st = st
		if err != nil {
			r.err = err
			return nil, r.off, false, err
		}
		if n > 0 {
			frame := r.buf[r.lo : r.lo+n : r.lo+n]
			off := r.off
			r.advance(n)
			return frame, off, false, nil
		}
		if need >= ownFrameSize {
			return r.own(need)
		}
		if err := r.fill(need); err != nil {
			r.err = err
			return nil, r.off, false, err
		}
	}
}

// fill reads until at least need bytes are buffered (and as many more as
// one read gives).
func (r *Reader) fill(need int) error {
	if r.lo > 0 && r.lo+need > len(r.buf) {
		r.hi = copy(r.buf, r.buf[r.lo:r.hi])
		r.lo = 0
	}
	if need > len(r.buf) {
		nb := make([]byte, max(need, 2*len(r.buf)))
		r.hi = copy(nb, r.buf[r.lo:r.hi])
		r.lo = 0
		r.buf = nb
	}
	for empty := 0; r.hi-r.lo < need; {
		n, err := r.r.Read(r.buf[r.hi:])
		r.hi += n
		switch {
		case n > 0:
			empty = 0
			continue
		case err != nil:
			return r.readError(err, r.hi > r.lo)
		}
		if empty++; empty >= maxEmptyReads {
			return io.ErrNoProgress
		}
	}
	return nil
}

// readError turns an error of the underlying reader into the Reader's:
// the end of the stream inside a frame is "eof inside operation".
func (r *Reader) readError(err error, inFrame bool) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if inFrame {
			return &FrameError{Offset: r.off, Msg: errEOFInFrame, Err: io.ErrUnexpectedEOF}
		}
		return io.EOF
	}
	return err
}

// own reads a large frame, of which need bytes are known, into memory of
// its own: the buffered bytes are its beginning, the rest is read into it
// directly.
func (r *Reader) own(need int) ([]byte, int64, bool, error) {
	frame := make([]byte, need)
	have := copy(frame, r.buf[r.lo:r.hi])
	r.lo, r.hi = 0, 0
	for {
		if _, err := io.ReadFull(r.r, frame[have:]); err != nil {
			r.err = r.readError(err, true)
			return nil, r.off, false, r.err
		}
		n, more, st, err := r.c.frameLen(frame, r.off, r.st)
		r.st = st
		switch {
		case err != nil:
			r.err = err
			return nil, r.off, false, err
		case n == len(frame):
			off := r.off
			r.off += int64(n)
			return frame, off, true, nil
		case n > 0:
			// A lower bound that was not the length: keep the rest.
			rest := append(r.buf[:0], frame[n:]...)
			r.buf, r.hi = rest[:cap(rest)], len(rest)
			off := r.off
			r.off += int64(n)
			return frame[:n:n], off, true, nil
		}
		have = len(frame)
		frame = append(frame, make([]byte, more-len(frame))...)
	}
}
