package sereal

import (
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/goimp/imprpc/perl"
)

// Defaults of the limits in DecOptions and EncOptions.
const (
	// DefaultMaxDepth is the default nesting limit, Perl's own default
	// (max_recursion_depth). As in Perl, every reference counts one level
	// (REFN, ARRAYREF_n, HASHREF_n: an array behind a REFN is no level of
	// its own); WEAKEN and OBJECT count one too.
	DefaultMaxDepth = 10000
	// DefaultMaxSize is the default size limit of a document: 1 GiB.
	DefaultMaxSize = 1 << 30
	// DefaultMaxStringLen is the default length limit of one string, hash
	// key, class name or regexp pattern: 1 GiB.
	DefaultMaxStringLen = 1 << 30
	// DefaultMaxArrayLen is the default element limit of one array: 2**24.
	DefaultMaxArrayLen = 1 << 24
	// DefaultMaxHashLen is the default entry limit of one hash: 2**24.
	DefaultMaxHashLen = 1 << 24
	// DefaultProtocol is the protocol version the encoder writes unless
	// EncOptions.Protocol says otherwise: every Sereal::Decoder from
	// version 3.0 (2014) on reads it, and nothing a Perl peer can tell
	// apart is lost (see the package documentation).
	DefaultProtocol = 3
	// DefaultCompressThreshold is the body size below which the encoder
	// does not compress, Perl's default (compress_threshold).
	DefaultCompressThreshold = 1024
)

// DecOptions are the options of decoding. The zero value is safe: every
// limit left at zero takes its default.
type DecOptions struct {
	// MaxDepth limits nesting; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxSize limits the size of a document in bytes, as it is on the
	// wire; 0 means DefaultMaxSize. A Decoder reading from a stream and
	// DocumentLength stop there.
	MaxSize int
	// MaxDecompressedSize limits the size of the body of a compressed
	// document after decompression, checked before anything is
	// decompressed; 0 means MaxSize.
	MaxDecompressedSize int
	// MaxDecodedSize limits the bytes of all strings, hash keys, class
	// names and patterns of one decoded value together. Without COPY
	// tags they cannot exceed the document's size, but COPY lets a small
	// document repeat a long string many times. 0 means four times the
	// larger of MaxSize and MaxDecompressedSize.
	MaxDecodedSize int
	// MaxStringLen limits the length of one string in bytes; 0 means
	// DefaultMaxStringLen.
	MaxStringLen int
	// MaxArrayLen limits the elements of one array; 0 means
	// DefaultMaxArrayLen.
	MaxArrayLen int
	// MaxHashLen limits the entries of one hash; 0 means
	// DefaultMaxHashLen.
	MaxHashLen int
	// AllowTrailingData makes Unmarshal ignore bytes after the document,
	// as Perl's decode does. By default they are an error.
	AllowTrailingData bool
	// AliasInput makes decoded byte strings (perl.Bytes) share the
	// memory of the input (or of the decompressed body of a compressed
	// document) instead of copying it. The caller must then leave the
	// input unchanged while the decoded value is in use. A Decoder
	// ignores it.
	AliasInput bool
}

// DecMode decodes with fixed options. It is immutable and safe for
// concurrent use by multiple goroutines.
type DecMode interface {
	// Unmarshal decodes the document in data into v, like the package's
	// Unmarshal.
	Unmarshal(data []byte, v any) error
	// UnmarshalValue decodes the document in data into a perl.Value
	// without reflection.
	UnmarshalValue(data []byte) (perl.Value, error)
	// UnmarshalArrayRef decodes a document whose root is a reference to
	// an array and appends the elements to dst; see the package's
	// UnmarshalArrayRef.
	UnmarshalArrayRef(data []byte, dst []perl.Value) ([]perl.Value, error)
	// UnmarshalHeader decodes the user data a document carries in its
	// header (Perl's encode_sereal_with_header_data), or returns nil
	// when it has none.
	UnmarshalHeader(data []byte) (perl.Value, error)
	// DocumentLength returns the length of the document at the start of
	// data without decoding its values; see the package's
	// DocumentLength.
	DocumentLength(data []byte) (int, error)
	// NewDecoder returns a Decoder reading documents from r.
	NewDecoder(r io.Reader) *Decoder
	// DecOptions returns the options with every default filled in.
	DecOptions() DecOptions
}

// DecMode validates the options and returns a DecMode using them.
func (o DecOptions) DecMode() (DecMode, error) {
	m := &decMode{opts: o}
	p := &m.opts
	lim := []struct {
		name string
		v    *int
		def  func() int
	}{
		{"MaxDepth", &p.MaxDepth, func() int { return DefaultMaxDepth }},
		{"MaxSize", &p.MaxSize, func() int { return DefaultMaxSize }},
		{"MaxDecompressedSize", &p.MaxDecompressedSize, func() int { return p.MaxSize }},
		{"MaxDecodedSize", &p.MaxDecodedSize, func() int { return satMul4(max(p.MaxSize, p.MaxDecompressedSize)) }},
		{"MaxStringLen", &p.MaxStringLen, func() int { return DefaultMaxStringLen }},
		{"MaxArrayLen", &p.MaxArrayLen, func() int { return DefaultMaxArrayLen }},
		{"MaxHashLen", &p.MaxHashLen, func() int { return DefaultMaxHashLen }},
	}
	for _, l := range lim {
		if err := setLimit(l.name, l.v, l.def()); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func satMul4(n int) int {
	if n > maxInt/4 {
		return maxInt
	}
	return 4 * n
}

const maxInt = int(^uint(0) >> 1)

func setLimit(name string, v *int, def int) error {
	switch {
	case *v < 0:
		return errors.New("sereal: negative " + name + " " + strconv.Itoa(*v))
	case *v == 0:
		*v = def
	}
	return nil
}

type decMode struct {
	opts     DecOptions
	bufs     sync.Pool // *[]byte scratch for decompressed bodies
	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error
}

func (m *decMode) DecOptions() DecOptions { return m.opts }

// Compression selects how the encoder compresses document bodies.
type Compression uint8

const (
	// Uncompressed writes raw bodies (document type 0).
	Uncompressed Compression = iota
	// Snappy writes incremental Snappy bodies (document type 2), which
	// every Sereal::Decoder reads.
	Snappy
	// Zlib writes zlib bodies (document type 3, protocol 3 and later).
	Zlib
	// Zstd writes Zstandard bodies (document type 4, protocol 4 and
	// later; Sereal::Decoder 4.0 and later).
	Zstd
)

// SortKeys selects the order in which the encoder writes hash keys.
type SortKeys uint8

const (
	// SortKeysNone writes keys in the order of perl.Hash.Entries, which
	// for a decoded hash is the order they had on the wire.
	SortKeysNone SortKeys = iota
	// SortKeysFast is Perl's sort_keys => 1: by length in bytes, then
	// UTF-8 keys before byte keys, then by bytes.
	SortKeysFast
	// SortKeysPerl is Perl's sort_keys => 2: Perl's string order (cmp),
	// that is by characters.
	SortKeysPerl
	// SortKeysPerlReverse is Perl's sort_keys => 3: reverse string
	// order.
	SortKeysPerlReverse
)

// EncOptions are the options of encoding. The zero value writes protocol
// version DefaultProtocol, uncompressed, with hash keys in their own
// order, as Perl's Sereal::Encoder->new would with protocol_version =>
// DefaultProtocol.
type EncOptions struct {
	// Protocol is the protocol version to write, 1 to 5; 0 means
	// DefaultProtocol, or 4 with Zstd compression. Write 5 for documents
	// byte-identical with Perl's Sereal::Encoder 5.x defaults.
	Protocol int
	// Compression selects body compression; it needs protocol 3 for
	// Zlib and 4 for Zstd.
	Compression Compression
	// CompressThreshold is the body size in bytes below which bodies are
	// not compressed; 0 means DefaultCompressThreshold. A body that does
	// not get smaller is never compressed.
	CompressThreshold int
	// CompressLevel is the zlib (1 to 9, default 6) or zstd (1 to 22,
	// default 3) compression level; 0 means the default.
	CompressLevel int
	// SortKeys selects the order of hash keys (Perl's sort_keys).
	SortKeys SortKeys
	// CanonicalRefs writes every reference to an array or hash as REFN
	// followed by ARRAY or HASH, never as ARRAYREF_n or HASHREF_n (Perl's
	// canonical_refs).
	CanonicalRefs bool
	// CanonicalHashRefs writes every reference to a hash as REFN HASH.
	// Perl's encoder does so for every hash that the program still holds
	// elsewhere (its reference count is above 1), such as the context
	// hash that Net::IMP::Remote's client sends with new_analyzer; with
	// it, such documents come out byte-identical with Perl's.
	CanonicalHashRefs bool
	// NoSharedHashKeys writes every hash key in full instead of as a COPY
	// of its first occurrence in the document (Perl's
	// no_shared_hashkeys).
	NoSharedHashKeys bool
	// DedupeStrings writes a string value (of 4 bytes or more) that
	// occurred before as a COPY of the first (Perl's dedupe_strings).
	DedupeStrings bool
	// AliasedDedupeStrings writes repeated string values that are array
	// elements or hash values as ALIAS of the first, so that Perl's
	// decoder makes them one scalar (Perl's aliased_dedupe_strings).
	// Unlike Perl, the encoder writes ALIAS only where Perl's decoder
	// accepts it.
	AliasedDedupeStrings bool
	// FreezeCallbacks writes an array blessed into
	// Sereal::Decoder::THAW_args, which is what the decoder returns for a
	// FREEZE/THAW object, as that object again (OBJECT_FREEZE), so that
	// Perl's decoder calls the class's THAW (Perl's freeze_callbacks).
	// Without it such an array is written as the blessed array it is.
	// Beware: Sereal::Decoder 5.003 to 5.009 keeps FREEZE/THAW objects in
	// a table it never clears, and a decoder object used for later
	// documents (as Net::IMP::Remote uses one per connection) may then
	// corrupt memory and crash.
	FreezeCallbacks bool
	// MaxDepth limits nesting; 0 means DefaultMaxDepth.
	MaxDepth int
}

// EncMode encodes with fixed options. It is immutable and safe for
// concurrent use by multiple goroutines.
type EncMode interface {
	// Marshal returns the document of v, like the package's Marshal.
	Marshal(v any) ([]byte, error)
	// MarshalValue returns the document of v without reflection.
	MarshalValue(v perl.Value) ([]byte, error)
	// AppendValue appends the document of v to dst and returns the
	// extended buffer. In steady state it allocates nothing but the
	// growth of dst.
	AppendValue(dst []byte, v perl.Value) ([]byte, error)
	// AppendArrayRef appends the document of a reference to an array
	// holding elems, as Perl writes [op, args...], without building the
	// perl.Array.
	AppendArrayRef(dst []byte, elems ...perl.Value) ([]byte, error)
	// NewEncoder returns an Encoder writing documents to w.
	NewEncoder(w io.Writer) *Encoder
	// EncOptions returns the options with every default filled in.
	EncOptions() EncOptions
}

// EncMode validates the options and returns an EncMode using them.
func (o EncOptions) EncMode() (EncMode, error) {
	m := &encMode{opts: o}
	p := &m.opts
	if p.Compression > Zstd {
		return nil, errors.New("sereal: invalid Compression " + strconv.Itoa(int(p.Compression)))
	}
	if p.SortKeys > SortKeysPerlReverse {
		return nil, errors.New("sereal: invalid SortKeys " + strconv.Itoa(int(p.SortKeys)))
	}
	if p.Protocol == 0 {
		p.Protocol = DefaultProtocol
		if p.Compression == Zstd {
			p.Protocol = 4
		}
	}
	if p.Protocol < 1 || p.Protocol > latestProtocol {
		return nil, errors.New("sereal: invalid Protocol " + strconv.Itoa(p.Protocol) + " (1 to 5)")
	}
	if p.Compression == Zlib && p.Protocol < 3 || p.Compression == Zstd && p.Protocol < 4 {
		return nil, errors.New("sereal: compression needs a later Protocol than " + strconv.Itoa(p.Protocol))
	}
	if err := setLimit("CompressThreshold", &p.CompressThreshold, DefaultCompressThreshold); err != nil {
		return nil, err
	}
	if err := setLimit("MaxDepth", &p.MaxDepth, DefaultMaxDepth); err != nil {
		return nil, err
	}
	switch p.Compression {
	case Zlib:
		if err := setLimit("CompressLevel", &p.CompressLevel, 6); err != nil || p.CompressLevel > 9 {
			return nil, errors.New("sereal: invalid zlib CompressLevel " + strconv.Itoa(o.CompressLevel))
		}
	case Zstd:
		if err := setLimit("CompressLevel", &p.CompressLevel, 3); err != nil || p.CompressLevel > 22 {
			return nil, errors.New("sereal: invalid zstd CompressLevel " + strconv.Itoa(o.CompressLevel))
		}
	}
	if p.Protocol == 1 {
		m.header = append(m.header, magicV1...)
	} else {
		m.header = append(m.header, magicV3...)
		if p.Protocol == 2 {
			m.header[1] = 's'
		}
	}
	m.header = append(m.header, byte(p.Protocol), 0)
	m.pool.New = func() any { return new(encoder) }
	return m, nil
}

type encMode struct {
	opts     EncOptions
	header   []byte    // magic, version-type byte of a raw document, empty suffix
	pool     sync.Pool // *encoder
	zstdOnce sync.Once
	zstd     *zstd.Encoder
	zstdErr  error
}

func (m *encMode) EncOptions() EncOptions { return m.opts }

var (
	defaultDecMode, _ = DecOptions{}.DecMode()
	defaultEncMode, _ = EncOptions{}.EncMode()
)

// PerlEncOptions returns the EncOptions that make the encoder write what
// Perl's Sereal::Encoder->new(\%opts) writes, for a Perl configuration
// given as its options hash: protocol_version (default 5, as Sereal 5.x),
// compress (0 none, 1 SRL_SNAPPY, 2 SRL_ZLIB, 3 SRL_ZSTD), snappy,
// snappy_incr, compress_threshold, compress_level, canonical,
// canonical_refs, sort_keys, no_shared_hashkeys, dedupe_strings,
// aliased_dedupe_strings, freeze_callbacks and max_recursion_depth. A
// false (zero) value is the option's absence, as in Perl. Other options
// are an error.
func PerlEncOptions(opts map[string]int) (EncOptions, error) {
	o := EncOptions{Protocol: latestProtocol}
	compression := []Compression{Uncompressed, Snappy, Zlib, Zstd}
	threshold := -1
	for k, v := range opts {
		if v == 0 && k != "compress_threshold" {
			continue
		}
		switch k {
		case "protocol_version":
			o.Protocol = v
		case "compress":
			if v < 0 || v >= len(compression) {
				return o, errors.New("sereal: invalid compress " + strconv.Itoa(v))
			}
			o.Compression = compression[v]
		case "snappy", "snappy_incr":
			o.Compression = Snappy
		case "compress_threshold":
			threshold = v
		case "compress_level":
			o.CompressLevel = v
		case "canonical":
			o.SortKeys, o.CanonicalRefs = SortKeysFast, true
		case "canonical_refs":
			o.CanonicalRefs = true
		case "sort_keys":
			o.SortKeys = SortKeys(v)
		case "no_shared_hashkeys":
			o.NoSharedHashKeys = true
		case "dedupe_strings":
			o.DedupeStrings = true
		case "aliased_dedupe_strings":
			o.AliasedDedupeStrings = true
		case "freeze_callbacks":
			o.FreezeCallbacks = true
		case "max_recursion_depth":
			o.MaxDepth = v
		default:
			return o, errors.New("sereal: Sereal::Encoder option " + strconv.Quote(k) + " not supported")
		}
	}
	if opts["canonical"] != 0 && opts["sort_keys"] != 0 {
		o.SortKeys = SortKeys(opts["sort_keys"])
	}
	switch {
	case threshold == 0:
		o.CompressThreshold = 1 // Perl's 0: compress every body
	case threshold > 0:
		o.CompressThreshold = threshold
	}
	return o, nil
}
