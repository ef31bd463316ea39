package sereal

import "strconv"

// scanBody returns the index just past the one item (the body) that starts
// at b[pos:], reading tags and lengths but building no values. It returns
// incomplete when b ends first.
func scanBody(b []byte, pos, maxDepth int) (int, error) {
	// pending counts the items still to read at the current level of
	// nesting; stack holds those of the enclosing arrays and hashes.
	var stackBuf [16]uint64
	stack := stackBuf[:0]
	pending := uint64(1)
	short := func(at int) error {
		need := uint64(at)
		for _, n := range stack {
			need = satAdd(need, n)
		}
		return incomplete{need: int(min(satAdd(need, pending), uint64(maxInt)))}
	}
	varint := func() (uint64, error) {
		var x uint64
		for i := 0; i < maxVarintLen; i++ {
			if pos >= len(b) {
				return 0, short(pos + 1)
			}
			c := b[pos]
			pos++
			if i == maxVarintLen-1 && c > 1 {
				return 0, &SyntaxError{Offset: int64(pos - 1), Tag: noTag, Msg: "varint overflows 64 bits"}
			}
			x |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				return x, nil
			}
		}
		return 0, &SyntaxError{Offset: int64(pos - maxVarintLen), Tag: noTag, Msg: "varint longer than 10 bytes"}
	}
	skip := func(n uint64) error {
		if n > uint64(len(b)-pos) {
			return short(int(min(satAdd(uint64(pos), n), uint64(maxInt))))
		}
		pos += int(n)
		return nil
	}
	open := func(n uint64) error {
		if n == 0 {
			return nil
		}
		if pending > 0 {
			if len(stack) >= maxDepth {
				return &LimitError{Offset: int64(pos), Limit: "MaxDepth", Max: int64(maxDepth)}
			}
			stack = append(stack, pending)
		}
		pending = n
		return nil
	}
	for {
		for pending == 0 {
			if len(stack) == 0 {
				return pos, nil
			}
			pending = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		if pos >= len(b) {
			return 0, short(pos)
		}
		at := pos
		t := b[pos] &^ trackFlag
		pos++
		if t == tagPad {
			continue
		}
		pending--
		var err error
		switch {
		case t < tagVarint:
			continue
		case t >= tagShortBinary0:
			err = skip(uint64(t - tagShortBinary0))
		case t >= tagHashRef0:
			err = open(2 * uint64(t-tagHashRef0))
		case t >= tagArrayRef0:
			err = open(uint64(t - tagArrayRef0))
		default:
			switch t {
			case tagVarint, tagZigzag, tagRefP, tagAlias, tagCopy:
				_, err = varint()
			case tagFloat:
				err = skip(4)
			case tagDouble:
				err = skip(8)
			case tagLongDouble, tagFloat128:
				err = skip(16)
			case tagUndef, tagCanonicalUndef, tagTrue, tagFalse, tagYes, tagNo:
			case tagBinary, tagStrUTF8:
				var n uint64
				if n, err = varint(); err == nil {
					err = skip(n)
				}
			case tagRefN, tagWeaken:
				pending = satAdd(pending, 1)
			case tagObject, tagObjectFreeze, tagRegexp:
				pending = satAdd(pending, 2)
			case tagObjectV, tagObjectVFreeze:
				if _, err = varint(); err == nil {
					pending = satAdd(pending, 1)
				}
			case tagHash, tagArray:
				var n uint64
				if n, err = varint(); err == nil {
					if t == tagHash {
						n = satAdd(n, n)
					}
					err = open(n)
				}
			default:
				err = &SyntaxError{Offset: int64(at), Tag: int(b[at]), Msg: "unexpected tag"}
			}
		}
		if err != nil {
			return 0, err
		}
	}
}

func satAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// snappyBlobEnd returns the index just past the Snappy block that starts at
// b[pos:] and runs to the end of a protocol 1 document of type 1, whose
// framing does not give its length. It reads the block's element headers
// without decompressing.
func snappyBlobEnd(b []byte, pos, maxSize int) (int, error) {
	start := pos
	total, pos, err := headerVarint(b, pos)
	if err != nil {
		return 0, err
	}
	if total > uint64(maxInt) {
		return 0, &SyntaxError{Offset: int64(start), Tag: noTag, Msg: "Snappy block too long"}
	}
	var out uint64
	for out < total {
		if pos >= len(b) {
			return 0, incomplete{need: pos + 1}
		}
		tag := b[pos]
		var n, hdr uint64
		switch tag & 3 {
		case 0: // literal
			n = uint64(tag>>2) + 1
			hdr = 1
			if extra := int(tag>>2) - 59; extra > 0 {
				if pos+1+extra > len(b) {
					return 0, incomplete{need: pos + 1 + extra}
				}
				var l uint64
				for i := 0; i < extra; i++ {
					l |= uint64(b[pos+1+i]) << (8 * i)
				}
				n = l + 1
				hdr += uint64(extra)
			}
			hdr += n
		case 1:
			n, hdr = uint64(tag>>2&7)+4, 2
		case 2:
			n, hdr = uint64(tag>>2)+1, 3
		case 3:
			n, hdr = uint64(tag>>2)+1, 5
		}
		if uint64(pos)+hdr > uint64(maxSize) {
			return 0, &LimitError{Offset: int64(start), Limit: "MaxSize", Max: int64(maxSize), Got: int64(pos) + int64(min(hdr, 1<<40))}
		}
		pos += int(hdr)
		out += n
	}
	if out != total {
		return 0, &SyntaxError{Offset: int64(start), Tag: noTag, Msg: "Snappy block longer than it announces (" + strconv.FormatUint(total, 10) + " bytes)"}
	}
	if pos > len(b) {
		return 0, incomplete{need: pos}
	}
	return pos, nil
}
