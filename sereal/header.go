package sereal

import (
	"strconv"
)

// docHeader describes the framing of one document.
type docHeader struct {
	version   int
	docType   int
	suffixAt  int // index of the optional suffix (after its size varint)
	suffixLen int
	bodyAt    int // index of the body, or of its compression framing
	blobAt    int // compressed documents: index of the compressed blob
	rawLen    int // zlib: announced length of the decompressed body
	end       int // compressed documents: index just past the blob
}

// incomplete reports that a document continues past the bytes given: need
// is a lower bound of its whole length.
type incomplete struct{ need int }

func (e incomplete) Error() string { return "sereal: incomplete document" }

// parseHeader reads the header of the document at the start of b, and for
// compressed documents their framing. It returns incomplete when b ends
// before that.
func parseHeader(b []byte, maxSize int) (docHeader, error) {
	var h docHeader
	if len(b) < headerSize {
		for _, m := range [...]string{magicV1, magicV3, magicV3UTF8} {
			if len(b) <= len(m) && string(b) == m[:len(b)] {
				return h, incomplete{need: headerSize + 2}
			}
		}
		return h, &SyntaxError{Offset: 0, Tag: noTag, Msg: "not a Sereal document (bad magic)"}
	}
	vt := b[4]
	h.version = int(vt & 0x0f)
	h.docType = int(vt >> 4)
	switch string(b[:4]) {
	case magicV1:
		if h.version < 1 || h.version > 2 {
			return h, &SyntaxError{Offset: 4, Tag: noTag, Msg: "protocol version " + strconv.Itoa(h.version) + " with the magic of versions 1 and 2"}
		}
	case magicV3:
		if h.version < 3 {
			return h, &SyntaxError{Offset: 4, Tag: noTag, Msg: "protocol version " + strconv.Itoa(h.version) + " with the magic of versions 3 and later"}
		}
	case magicV3UTF8:
		return h, &SyntaxError{Offset: 0, Tag: noTag, Msg: "not a Sereal document: it was UTF-8 encoded (magic =\\xC3\\xB3rl)"}
	default:
		return h, &SyntaxError{Offset: 0, Tag: noTag, Msg: "not a Sereal document (bad magic)"}
	}
	if h.version > latestProtocol {
		return h, unsupportedVersion(h.version)
	}
	if h.docType > docZstd {
		return h, &UnsupportedError{Offset: 4, Tag: noTag, Version: h.version, What: "document type " + strconv.Itoa(h.docType)}
	}
	pos := headerSize
	n, pos, err := headerVarint(b, pos)
	if err != nil {
		return h, err
	}
	if n > uint64(maxSize) {
		return h, &LimitError{Offset: headerSize, Limit: "MaxSize", Max: int64(maxSize), Got: clampInt64(n)}
	}
	h.suffixAt = pos
	h.suffixLen = int(n)
	pos += h.suffixLen
	h.bodyAt = pos
	if pos > maxSize {
		return h, &LimitError{Offset: headerSize, Limit: "MaxSize", Max: int64(maxSize), Got: int64(pos)}
	}
	if pos > len(b) {
		return h, incomplete{need: pos + 1}
	}
	switch h.docType {
	case docRaw, docSnappy:
		h.blobAt = pos
		return h, nil
	case docZlib:
		n, pos, err = headerVarint(b, pos)
		if err != nil {
			return h, err
		}
		h.rawLen = int(min(n, uint64(maxInt)))
	}
	n, pos, err = headerVarint(b, pos)
	if err != nil {
		return h, err
	}
	h.blobAt = pos
	if n > uint64(maxSize-pos) {
		return h, &LimitError{Offset: int64(h.bodyAt), Limit: "MaxSize", Max: int64(maxSize), Got: clampInt64(n + uint64(pos))}
	}
	h.end = pos + int(n)
	return h, nil
}

func unsupportedVersion(v int) error {
	e := &UnsupportedError{Offset: 4, Tag: noTag, Version: v, What: "protocol version " + strconv.Itoa(v)}
	switch v {
	case 6, 7:
		e.Hint = "Sereal::Encoder " + strconv.Itoa(v) + ".x writes it by default; a Perl peer can use Sereal 5.x, or the Storable wire"
	}
	return e
}

// headerVarint reads a varint of the header (or of the compression
// framing) at b[pos:].
func headerVarint(b []byte, pos int) (uint64, int, error) {
	var x uint64
	for i := 0; i < maxVarintLen; i++ {
		if pos+i >= len(b) {
			return 0, pos, incomplete{need: pos + i + 1}
		}
		c := b[pos+i]
		if i == maxVarintLen-1 && c > 1 {
			return 0, pos, &SyntaxError{Offset: int64(pos), Tag: noTag, Msg: "varint overflows 64 bits"}
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, pos + i + 1, nil
		}
	}
	return 0, pos, &SyntaxError{Offset: int64(pos), Tag: noTag, Msg: "varint longer than 10 bytes"}
}

func clampInt64(n uint64) int64 {
	if n > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(n)
}

// DocumentLength returns the length of the Sereal document at the start of
// data without decoding its values, for readers that frame a stream of
// documents. If data holds only the beginning of a document, it returns
// ErrIncomplete and a lower bound of the document's length (always more
// than len(data)), so that a caller can wait for that many bytes before
// asking again. Other errors (a bad magic, a tag that is not Sereal, a
// document over DefaultMaxSize) mean that the stream cannot be framed any
// further.
//
// A compressed document's length is read from its framing; its body is
// not decompressed. Bytes after the first document are ignored.
func DocumentLength(data []byte) (int, error) {
	return defaultDecMode.DocumentLength(data)
}

func (m *decMode) DocumentLength(data []byte) (int, error) {
	if len(data) > m.opts.MaxSize {
		// A document that does not end within MaxSize is too long.
		data = data[:m.opts.MaxSize]
	}
	n, err := documentLength(data, m.opts.MaxSize, m.opts.MaxDepth)
	if inc, ok := err.(incomplete); ok {
		if inc.need > m.opts.MaxSize {
			return 0, &LimitError{Offset: 0, Limit: "MaxSize", Max: int64(m.opts.MaxSize), Got: int64(inc.need)}
		}
		return max(inc.need, len(data)+1), ErrIncomplete
	}
	return n, err
}

// documentLength returns the length of the document at the start of data,
// or incomplete.
func documentLength(data []byte, maxSize, maxDepth int) (int, error) {
	h, err := parseHeader(data, maxSize)
	if err != nil {
		return 0, err
	}
	switch h.docType {
	case docRaw:
		return scanBody(data, h.bodyAt, maxDepth)
	case docSnappy:
		return snappyBlobEnd(data, h.blobAt, maxSize)
	}
	if h.end > len(data) {
		return 0, incomplete{need: h.end}
	}
	return h.end, nil
}

// LooksLikeSereal reports whether data starts like a Sereal document: the
// magic string of its protocol version and a version from 1 on, as Perl's
// scalar_looks_like_sereal checks. Documents of versions this package does
// not decode (6 and 7) look like Sereal too; decoding them says why it
// cannot.
func LooksLikeSereal(data []byte) bool {
	if len(data) < headerSize+1 {
		return false
	}
	v := data[4] & 0x0f
	switch string(data[:4]) {
	case magicV1:
		return v == 1 || v == 2
	case magicV3:
		return v >= 3
	}
	return false
}
