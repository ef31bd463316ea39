package storable

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strconv"
)

// Header is what the first bytes of a Storable image announce: the
// format's version, network or native order and, for native order, the
// byte order and type sizes of the machine that wrote it.
type Header struct {
	// File reports an image with the "pst0" magic, as store and nstore
	// write to files; freeze and nfreeze images have no magic.
	File bool
	// NetOrder reports network order (nfreeze, nstore): integers are
	// big-endian and doubles are written as strings.
	NetOrder bool
	// Major and Minor are the binary format version (2 and 11 for what
	// Storable 3.x writes).
	Major, Minor int
	// ByteOrder is the native byte order string of the writing machine,
	// "12345678" for little-endian with 8-byte integers, "87654321" for
	// big-endian, "1234" and "4321" for 4-byte integers. Its length is
	// the size of a Perl integer (IV). Empty in network order.
	ByteOrder string
	// IntSize, LongSize, PtrSize and NVSize are the sizes in bytes of the
	// writing machine's C int, long, pointer and Perl floating point
	// number (NV); zero in network order. NVSize is 8 in images of binary
	// minor 0 and 1, which do not carry it.
	IntSize, LongSize, PtrSize, NVSize int
	// Len is the number of bytes the header takes, magic included.
	Len int
}

// byteOrder reads and appends integers in one byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// layout is what the decoder needs from a header.
type layout struct {
	net    bool
	order  byteOrder // lengths and native integers
	little bool      // order is little-endian
	ivSize int
	nvSize int
	minor  int
}

// uint32 and uint64 read an integer in the layout's order without the
// dynamic call through order, on the decoder's hot path.
func (l *layout) uint32(b []byte) uint32 {
	if l.little {
		return binary.LittleEndian.Uint32(b)
	}
	return binary.BigEndian.Uint32(b)
}

func (l *layout) uint64(b []byte) uint64 {
	if l.little {
		return binary.LittleEndian.Uint64(b)
	}
	return binary.BigEndian.Uint64(b)
}

// Machine is the native format of a machine, for images in native order
// (freeze, store). The zero value stands for the machine this program
// runs on.
type Machine struct {
	// ByteOrder is "12345678" (little-endian, 64-bit integers),
	// "87654321" (big-endian, 64-bit), "1234" or "4321" (32-bit
	// integers).
	ByteOrder string
	// IntSize, LongSize and PtrSize are the sizes of C's int, long and
	// pointer types; NVSize is the size of Perl's NV and must be 8.
	IntSize, LongSize, PtrSize, NVSize int
}

// HostMachine returns the native format of the machine this program runs
// on, as a Perl built for it with default options writes it.
func HostMachine() Machine { return hostMachine }

var hostMachine = func() Machine {
	m := Machine{IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 8}
	if strconv.IntSize == 32 {
		m.LongSize, m.PtrSize = 4, 4
	}
	if runtime.GOOS == "windows" {
		m.LongSize = 4 // LLP64: long stays 32 bits
	}
	le := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	switch {
	case strconv.IntSize == 64 && le:
		m.ByteOrder = "12345678"
	case strconv.IntSize == 64:
		m.ByteOrder = "87654321"
	case le:
		m.ByteOrder = "1234"
	default:
		m.ByteOrder = "4321"
	}
	return m
}()

// orderOf returns the integer byte order a byte order string stands for,
// and false for the orders this package does not read.
func orderOf(s string) (byteOrder, bool) {
	switch s {
	case "1234", "12345678":
		return binary.LittleEndian, true
	case "4321", "87654321":
		return binary.BigEndian, true
	}
	return nil, false
}

// ParseHeader reads the header at the start of a Storable image, in memory
// (freeze, nfreeze) or file (store, nstore) form. It needs only the header's
// bytes, so it can tell whether a prefix of some data is a Storable image.
func ParseHeader(data []byte) (Header, error) {
	h, _, err := parseHeader(data)
	return h, err
}

func parseHeader(data []byte) (Header, layout, error) {
	var h Header
	var l layout
	off := 0
	short := func(what string) error {
		return &SyntaxError{Offset: int64(len(data)), Op: noOp, Msg: "image ends in the header (" + what + ")", eof: true}
	}
	if bytes.HasPrefix(data, []byte(fileMagic)) {
		h.File = true
		off = len(fileMagic)
	} else if bytes.HasPrefix(data, []byte(oldFileMagic)) {
		return h, l, &UnsupportedError{Offset: 0, Op: noOp, What: "file images of Storable before 0.6 (magic \"perl-store\")"}
	} else if len(data) < len(fileMagic) && bytes.HasPrefix([]byte(fileMagic), data) && len(data) > 0 {
		return h, l, short("magic")
	}
	if off >= len(data) {
		return h, l, short("version")
	}
	b := data[off]
	h.NetOrder = b&1 == 1
	h.Major = int(b >> 1)
	if h.Major != majorVersion {
		what := "binary major " + strconv.Itoa(h.Major)
		if h.Major < majorVersion {
			what += " (Storable before 0.7)"
		}
		return h, l, &UnsupportedError{Offset: int64(off), Op: noOp, What: what}
	}
	off++
	if off >= len(data) {
		return h, l, short("minor version")
	}
	h.Minor = int(data[off])
	off++
	l.net = h.NetOrder
	l.minor = h.Minor
	if h.NetOrder {
		h.Len = off
		l.order = binary.BigEndian
		l.ivSize = 8
		l.nvSize = 8
		return h, l, nil
	}
	if off >= len(data) {
		return h, l, short("byte order")
	}
	n := int(data[off])
	off++
	sizes := 3
	if h.Minor >= 2 {
		sizes = 4
	}
	if len(data)-off < n+sizes {
		return h, l, short("byte order and sizes")
	}
	h.ByteOrder = string(data[off : off+n])
	order, ok := orderOf(h.ByteOrder)
	if !ok {
		return h, l, &UnsupportedError{Offset: int64(off - 1), Op: noOp, What: "native byte order " + strconv.Quote(h.ByteOrder)}
	}
	off += n
	h.IntSize, h.LongSize, h.PtrSize = int(data[off]), int(data[off+1]), int(data[off+2])
	h.NVSize = 8
	if sizes == 4 {
		h.NVSize = int(data[off+3])
	}
	switch h.NVSize {
	case 8, 12, 16:
	default:
		return h, l, &UnsupportedError{Offset: int64(off + 3), Op: noOp, What: "floating point numbers of " + strconv.Itoa(h.NVSize) + " bytes"}
	}
	off += sizes
	h.Len = off
	l.order, l.little = order, order == binary.LittleEndian
	l.ivSize = n
	l.nvSize = h.NVSize
	return h, l, nil
}

// appendHeader appends the header of an image in network order, or in the
// native order of m.
func appendHeader(dst []byte, file, net bool, m *Machine) []byte {
	if file {
		dst = append(dst, fileMagic...)
	}
	if net {
		return append(dst, majorVersion<<1|1, writeMinor)
	}
	dst = append(dst, majorVersion<<1, writeMinor, byte(len(m.ByteOrder)))
	dst = append(dst, m.ByteOrder...)
	return append(dst, byte(m.IntSize), byte(m.LongSize), byte(m.PtrSize), byte(m.NVSize))
}
