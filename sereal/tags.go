package sereal

import "strconv"

// Tags of the Sereal document body (sereal_spec.pod, "Tags").
const (
	tagPos0           = 0x00 // POS_0..POS_15: small non-negative integer
	tagNeg16          = 0x10 // NEG_16..NEG_1: small negative integer
	tagVarint         = 0x20 // VARINT: unsigned varint
	tagZigzag         = 0x21 // ZIGZAG: zigzag varint
	tagFloat          = 0x22 // FLOAT: IEEE float32
	tagDouble         = 0x23 // DOUBLE: IEEE float64
	tagLongDouble     = 0x24 // LONG_DOUBLE: the writer's long double
	tagUndef          = 0x25 // UNDEF
	tagBinary         = 0x26 // BINARY: varint length, bytes
	tagStrUTF8        = 0x27 // STR_UTF8: varint length, UTF-8 bytes
	tagRefN           = 0x28 // REFN: reference to the next item
	tagRefP           = 0x29 // REFP: reference to an earlier item
	tagHash           = 0x2a // HASH: varint count, key/value pairs
	tagArray          = 0x2b // ARRAY: varint count, items
	tagObject         = 0x2c // OBJECT: class name, item
	tagObjectV        = 0x2d // OBJECTV: offset of an earlier class name, item
	tagAlias          = 0x2e // ALIAS: the earlier item itself
	tagCopy           = 0x2f // COPY: the earlier item again
	tagWeaken         = 0x30 // WEAKEN: the next reference is weak
	tagRegexp         = 0x31 // REGEXP: pattern, modifiers
	tagObjectFreeze   = 0x32 // OBJECT_FREEZE: class name, FREEZE data
	tagObjectVFreeze  = 0x33 // OBJECTV_FREEZE
	tagNo             = 0x34 // NO: Perl 5.36 boolean false (protocol 5)
	tagYes            = 0x35 // YES: Perl 5.36 boolean true (protocol 5)
	tagFloat128       = 0x38 // FLOAT_128: quadmath __float128 (protocol 5)
	tagCanonicalUndef = 0x39 // CANONICAL_UNDEF: PL_sv_undef (protocol 3)
	tagFalse          = 0x3a // FALSE: PL_sv_no
	tagTrue           = 0x3b // TRUE: PL_sv_yes
	tagPad            = 0x3f // PAD: ignored
	tagArrayRef0      = 0x40 // ARRAYREF_0..ARRAYREF_15
	tagHashRef0       = 0x50 // HASHREF_0..HASHREF_15
	tagShortBinary0   = 0x60 // SHORT_BINARY_0..SHORT_BINARY_31
	trackFlag         = 0x80 // the F-bit: a later REFP or ALIAS refers to the item
)

var tagNames = [...]string{
	tagVarint: "VARINT", tagZigzag: "ZIGZAG", tagFloat: "FLOAT", tagDouble: "DOUBLE",
	tagLongDouble: "LONG_DOUBLE", tagUndef: "UNDEF", tagBinary: "BINARY", tagStrUTF8: "STR_UTF8",
	tagRefN: "REFN", tagRefP: "REFP", tagHash: "HASH", tagArray: "ARRAY",
	tagObject: "OBJECT", tagObjectV: "OBJECTV", tagAlias: "ALIAS", tagCopy: "COPY",
	tagWeaken: "WEAKEN", tagRegexp: "REGEXP", tagObjectFreeze: "OBJECT_FREEZE",
	tagObjectVFreeze: "OBJECTV_FREEZE", tagNo: "NO", tagYes: "YES",
	0x36: "RESERVED_0", 0x37: "RESERVED_1", tagFloat128: "FLOAT_128",
	tagCanonicalUndef: "CANONICAL_UNDEF", tagFalse: "FALSE", tagTrue: "TRUE",
	0x3c: "MANY", 0x3d: "PACKET_START", 0x3e: "EXTEND", tagPad: "PAD",
}

// TagName returns the specification's name of a tag byte ("REFN",
// "ARRAYREF_3", "SHORT_BINARY_5"), with " (tracked)" appended when the
// byte has the track flag set.
func TagName(tag byte) string {
	s := tagName(tag &^ trackFlag)
	if tag&trackFlag != 0 {
		s += " (tracked)"
	}
	return s
}

func tagName(t byte) string {
	switch {
	case t < tagNeg16:
		return "POS_" + strconv.Itoa(int(t))
	case t < tagVarint:
		return "NEG_" + strconv.Itoa(int(tagVarint-t))
	case t < tagArrayRef0:
		return tagNames[t]
	case t < tagHashRef0:
		return "ARRAYREF_" + strconv.Itoa(int(t-tagArrayRef0))
	case t < tagShortBinary0:
		return "HASHREF_" + strconv.Itoa(int(t-tagHashRef0))
	default:
		return "SHORT_BINARY_" + strconv.Itoa(int(t-tagShortBinary0))
	}
}

// Document types (the high nibble of the version-type byte).
const (
	docRaw             = 0 // raw body
	docSnappy          = 1 // Snappy, not incremental (protocol 1)
	docSnappyIncr      = 2 // <varint length> <Snappy blob>
	docZlib            = 3 // <varint raw length> <varint length> <zlib blob>
	docZstd            = 4 // <varint length> <zstd blob>
	headerSize         = 5 // magic + version-type byte
	maxVarintLen       = 10
	magicV1            = "=srl"
	magicV3            = "=\xf3rl"
	magicV3UTF8        = "=\xc3\xb3rl"
	latestProtocol     = 5
	hdrUserDataFlagBit = 1
)
