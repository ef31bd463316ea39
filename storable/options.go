package storable

import (
	"errors"
	"io"
	"strconv"

	"github.com/goimp/imprpc/perl"
)

// Defaults of the limits in DecOptions and EncOptions.
const (
	// DefaultMaxDepth is the default nesting limit. Every array, hash,
	// reference and hook object counts one level, so Perl's own limit of
	// 512 nested references to arrays takes 1024.
	DefaultMaxDepth = 2048
	// DefaultMaxSize is the default size limit of an image: 1 GiB.
	DefaultMaxSize = 1 << 30
	// DefaultMaxStringLen is the default length limit of one string, class
	// name, regexp pattern or hook string: 1 GiB.
	DefaultMaxStringLen = 1 << 30
	// DefaultMaxArrayLen is the default element limit of one array: 2**24.
	DefaultMaxArrayLen = 1 << 24
	// DefaultMaxHashLen is the default entry limit of one hash: 2**24.
	DefaultMaxHashLen = 1 << 24
)

// LongDouble says how to read floating point numbers of 16 bytes in native
// images, whose format the header does not tell.
type LongDouble uint8

const (
	// LongDoubleAuto reads 16-byte numbers from little-endian machines as
	// x86 80-bit extended precision when their padding bytes are zero and
	// as IEEE binary128 otherwise, and from big-endian machines as IEEE
	// binary128. 12-byte numbers are always x86 extended precision.
	LongDoubleAuto LongDouble = iota
	// LongDoubleX87 reads them as x86 80-bit extended precision.
	LongDoubleX87
	// LongDoubleBinary128 reads them as IEEE 754 binary128 (aarch64,
	// s390x, quadmath builds).
	LongDoubleBinary128
	// LongDoubleDoubleDouble reads them as a pair of doubles (PowerPC).
	LongDoubleDoubleDouble
)

// DecOptions are the options of decoding. The zero value is safe: every
// limit left at zero takes its default.
type DecOptions struct {
	// MaxDepth limits nesting; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxSize limits the size of an image in bytes; 0 means
	// DefaultMaxSize. A Decoder reading from a stream stops there.
	MaxSize int
	// MaxStringLen limits the length of one string in bytes; 0 means
	// DefaultMaxStringLen.
	MaxStringLen int
	// MaxArrayLen limits the elements of one array; 0 means
	// DefaultMaxArrayLen.
	MaxArrayLen int
	// MaxHashLen limits the entries of one hash; 0 means
	// DefaultMaxHashLen.
	MaxHashLen int
	// AllowTrailingData makes Unmarshal ignore bytes after the image, as
	// Perl's thaw does. By default they are an error.
	AllowTrailingData bool
	// AliasInput makes decoded byte strings (perl.Bytes) share the memory
	// of the input instead of copying it, which saves an allocation per
	// string. The caller must then leave the input unchanged while the
	// decoded value is in use. A Decoder ignores it.
	AliasInput bool
	// LongDouble selects how 16-byte floating point numbers of native
	// images are read. They are rounded to the nearest float64.
	LongDouble LongDouble
}

// DecMode decodes with fixed options. It is immutable and safe for
// concurrent use by multiple goroutines.
type DecMode interface {
	// Unmarshal decodes the image in data into v, like the package's
	// Unmarshal.
	Unmarshal(data []byte, v any) error
	// UnmarshalValue decodes the image in data into a perl.Value without
	// reflection.
	UnmarshalValue(data []byte) (perl.Value, error)
	// NewDecoder returns a Decoder reading images from r.
	NewDecoder(r io.Reader) *Decoder
	// DecOptions returns the options with every default filled in.
	DecOptions() DecOptions
}

// DecMode validates the options and returns a DecMode using them.
func (o DecOptions) DecMode() (DecMode, error) {
	m := &decMode{opts: o}
	lim := []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxDepth", &m.opts.MaxDepth, DefaultMaxDepth},
		{"MaxSize", &m.opts.MaxSize, DefaultMaxSize},
		{"MaxStringLen", &m.opts.MaxStringLen, DefaultMaxStringLen},
		{"MaxArrayLen", &m.opts.MaxArrayLen, DefaultMaxArrayLen},
		{"MaxHashLen", &m.opts.MaxHashLen, DefaultMaxHashLen},
	}
	for _, l := range lim {
		if err := setLimit(l.name, l.v, l.def); err != nil {
			return nil, err
		}
	}
	if o.LongDouble > LongDoubleDoubleDouble {
		return nil, errors.New("storable: invalid LongDouble " + strconv.Itoa(int(o.LongDouble)))
	}
	return m, nil
}

func setLimit(name string, v *int, def int) error {
	switch {
	case *v < 0:
		return errors.New("storable: negative " + name + " " + strconv.Itoa(*v))
	case *v == 0:
		*v = def
	}
	return nil
}

type decMode struct {
	opts DecOptions
}

func (m *decMode) DecOptions() DecOptions { return m.opts }

// Order selects the byte order of an encoded image.
type Order uint8

const (
	// NetworkOrder writes what nfreeze and nstore write: portable,
	// integers beyond 32 bits and non-integral numbers as strings.
	NetworkOrder Order = iota
	// NativeOrder writes what freeze and store write on the machine
	// EncOptions.Machine describes.
	NativeOrder
)

// Format selects whether an encoded image is an in-memory image or a file.
type Format uint8

const (
	// MemoryImage is what freeze and nfreeze return; thaw reads it.
	MemoryImage Format = iota
	// FileImage starts with the "pst0" magic, as store and nstore write
	// to files; retrieve reads it.
	FileImage
)

// BoolMode selects how perl.Bool values are written.
type BoolMode uint8

const (
	// BoolImmortal writes Perl's immortals PL_sv_yes and PL_sv_no
	// (SX_SV_YES, SX_SV_NO), as Storable writes \!!1: the first of each,
	// then back-references to it, since each is one value in Perl. Every
	// Storable reads them and they decode as perl.Bool again; Perl thaws
	// them as read-only values. A blessed boolean, which cannot be an
	// immortal, is written as in BoolString.
	BoolImmortal BoolMode = iota
	// BoolString writes "1" and "" as byte strings, which is what
	// Storable 3.26 writes for a boolean that is not an immortal (an
	// array element or hash value). They decode as perl.Bytes.
	BoolString
	// BoolBoolean writes SX_BOOLEAN_TRUE and SX_BOOLEAN_FALSE, which
	// Storable 3.32 (Perl 5.38) and later write for booleans and read as
	// ordinary boolean copies. Older Storable versions refuse them.
	BoolBoolean
)

// EncOptions are the options of encoding. The zero value writes what
// Perl's nfreeze writes.
type EncOptions struct {
	// Order is NetworkOrder (nfreeze, the default) or NativeOrder
	// (freeze).
	Order Order
	// Format is MemoryImage (the default) or FileImage.
	Format Format
	// Machine is the native format written in NativeOrder; the zero
	// value means this machine (HostMachine).
	Machine Machine
	// Canonical writes hash keys sorted as Perl's $Storable::canonical
	// sorts them (by character), instead of in the hash's own order.
	Canonical bool
	// Bools selects how perl.Bool values are written.
	Bools BoolMode
	// MaxDepth limits nesting; 0 means DefaultMaxDepth.
	MaxDepth int
}

// EncMode encodes with fixed options. It is immutable and safe for
// concurrent use by multiple goroutines.
type EncMode interface {
	// Marshal returns the image of v, like the package's Marshal.
	Marshal(v any) ([]byte, error)
	// MarshalValue returns the image of v without reflection.
	MarshalValue(v perl.Value) ([]byte, error)
	// AppendValue appends the image of v to dst and returns the extended
	// buffer (dst as it was on error). It allocates nothing when dst has
	// room, once the mode's pooled tables have grown to what v needs.
	AppendValue(dst []byte, v perl.Value) ([]byte, error)
	// NewEncoder returns an Encoder writing images to w.
	NewEncoder(w io.Writer) *Encoder
	// EncOptions returns the options with every default filled in.
	EncOptions() EncOptions
}

// EncMode validates the options and returns an EncMode using them.
func (o EncOptions) EncMode() (EncMode, error) {
	m := &encMode{opts: o}
	if o.Order > NativeOrder {
		return nil, errors.New("storable: invalid Order " + strconv.Itoa(int(o.Order)))
	}
	if o.Format > FileImage {
		return nil, errors.New("storable: invalid Format " + strconv.Itoa(int(o.Format)))
	}
	if o.Bools > BoolBoolean {
		return nil, errors.New("storable: invalid Bools " + strconv.Itoa(int(o.Bools)))
	}
	if err := setLimit("MaxDepth", &m.opts.MaxDepth, DefaultMaxDepth); err != nil {
		return nil, err
	}
	mach := &m.opts.Machine
	if *mach == (Machine{}) {
		*mach = hostMachine
	}
	order, ok := orderOf(mach.ByteOrder)
	if !ok {
		return nil, errors.New("storable: invalid Machine.ByteOrder " + strconv.Quote(mach.ByteOrder))
	}
	for _, s := range []*int{&mach.IntSize, &mach.LongSize, &mach.PtrSize} {
		if *s < 0 || *s > 16 {
			return nil, errors.New("storable: invalid Machine size " + strconv.Itoa(*s))
		}
	}
	if mach.IntSize == 0 {
		mach.IntSize = 4
	}
	if mach.LongSize == 0 {
		mach.LongSize = len(mach.ByteOrder)
	}
	if mach.PtrSize == 0 {
		mach.PtrSize = len(mach.ByteOrder)
	}
	if mach.NVSize == 0 {
		mach.NVSize = 8
	}
	if mach.NVSize != 8 {
		return nil, errors.New("storable: Machine.NVSize " + strconv.Itoa(mach.NVSize) + " not supported for encoding (only 8)")
	}
	m.order = order
	m.header = appendHeader(nil, o.Format == FileImage, o.Order == NetworkOrder, mach)
	return m, nil
}

type encMode struct {
	opts   EncOptions
	order  byteOrder
	header []byte
}

func (m *encMode) EncOptions() EncOptions { return m.opts }

var (
	defaultDecMode, _ = DecOptions{}.DecMode()
	defaultEncMode, _ = EncOptions{}.EncMode()
)
