package storable

import "strconv"

// Opcodes of Storable's binary format 2.x (Storable.xs calls them SX_*).
const (
	opObject       = 0  // SX_OBJECT: back-reference to an already stored value
	opLScalar      = 1  // SX_LSCALAR: byte string, 4-byte length
	opArray        = 2  // SX_ARRAY
	opHash         = 3  // SX_HASH
	opRef          = 4  // SX_REF
	opUndef        = 5  // SX_UNDEF
	opInteger      = 6  // SX_INTEGER: native IV
	opDouble       = 7  // SX_DOUBLE: native NV
	opByte         = 8  // SX_BYTE: small integer + 128
	opNetint       = 9  // SX_NETINT: 32-bit big-endian integer
	opScalar       = 10 // SX_SCALAR: byte string, 1-byte length
	opTiedArray    = 11 // SX_TIED_ARRAY
	opTiedHash     = 12 // SX_TIED_HASH
	opTiedScalar   = 13 // SX_TIED_SCALAR
	opSvUndef      = 14 // SX_SV_UNDEF: &PL_sv_undef
	opSvYes        = 15 // SX_SV_YES: &PL_sv_yes
	opSvNo         = 16 // SX_SV_NO: &PL_sv_no
	opBless        = 17 // SX_BLESS
	opIxBless      = 18 // SX_IX_BLESS
	opHook         = 19 // SX_HOOK
	opOverload     = 20 // SX_OVERLOAD
	opTiedKey      = 21 // SX_TIED_KEY
	opTiedIdx      = 22 // SX_TIED_IDX
	opUTF8Str      = 23 // SX_UTF8STR
	opLUTF8Str     = 24 // SX_LUTF8STR
	opFlagHash     = 25 // SX_FLAG_HASH
	opCode         = 26 // SX_CODE
	opWeakRef      = 27 // SX_WEAKREF
	opWeakOverload = 28 // SX_WEAKOVERLOAD
	opVString      = 29 // SX_VSTRING
	opLVString     = 30 // SX_LVSTRING
	opSvUndefElem  = 31 // SX_SVUNDEF_ELEM
	opRegexp       = 32 // SX_REGEXP
	opLObject      = 33 // SX_LOBJECT
	opBooleanTrue  = 34 // SX_BOOLEAN_TRUE
	opBooleanFalse = 35 // SX_BOOLEAN_FALSE
	opLast         = 36
)

var opNames = [opLast]string{
	"SX_OBJECT", "SX_LSCALAR", "SX_ARRAY", "SX_HASH", "SX_REF", "SX_UNDEF",
	"SX_INTEGER", "SX_DOUBLE", "SX_BYTE", "SX_NETINT", "SX_SCALAR",
	"SX_TIED_ARRAY", "SX_TIED_HASH", "SX_TIED_SCALAR", "SX_SV_UNDEF",
	"SX_SV_YES", "SX_SV_NO", "SX_BLESS", "SX_IX_BLESS", "SX_HOOK",
	"SX_OVERLOAD", "SX_TIED_KEY", "SX_TIED_IDX", "SX_UTF8STR", "SX_LUTF8STR",
	"SX_FLAG_HASH", "SX_CODE", "SX_WEAKREF", "SX_WEAKOVERLOAD", "SX_VSTRING",
	"SX_LVSTRING", "SX_SVUNDEF_ELEM", "SX_REGEXP", "SX_LOBJECT",
	"SX_BOOLEAN_TRUE", "SX_BOOLEAN_FALSE",
}

// OpName returns Storable's name of an opcode ("SX_ARRAY"), or "opcode
// 0x42" for a byte that is not one.
func OpName(op byte) string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return "opcode 0x" + strconv.FormatUint(uint64(op), 16)
}

// Flags of SX_HOOK.
const (
	hookTypeMask      = 0x03
	hookLargeClassLen = 0x04
	hookLargeStrLen   = 0x08
	hookLargeListLen  = 0x10
	hookIdxClassname  = 0x20
	hookNeedRecurse   = 0x40
	hookHasList       = 0x80

	hookTypeExtra = 3 // an extra byte follows: a tied object
)

// Flags of SX_FLAG_HASH: one byte for the hash, one per key.
const (
	hashRestricted = 0x01

	keyUTF8        = 0x01
	keyWasUTF8     = 0x02
	keyLocked      = 0x04
	keyIsSV        = 0x08
	keyPlaceholder = 0x10
)

// regexpLargeLen is the SX_REGEXP flag for a pattern length on 4 bytes.
const regexpLargeLen = 0x01

// Limits between the short and long forms.
const (
	maxShortLen   = 255       // LG_SCALAR: 1-byte lengths
	maxShortBless = 127       // LG_BLESS: 1-byte class name lengths
	maxI32        = 1<<31 - 1 // larger sizes need SX_LOBJECT
	majorVersion  = 2         // the binary major this package reads and writes
	writeMinor    = 11        // the binary minor Storable 3.x writes
	knownMinor    = 12        // the highest minor this package knows
	fileMagic     = "pst0"    // the magic of file images (store, nstore)
	oldFileMagic  = "perl-store"
)
