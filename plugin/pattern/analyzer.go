package pattern

import (
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// dirState is what the analyzer keeps per direction, as
// Net::IMP::Pattern does.
type dirState struct {
	buf     []byte       // stream data not passed yet (fewer than rxlen bytes, mostly)
	buftype imp.DataType // type of the data in buf; 0 before any data
	offset  int64        // position of buf[0] in the direction's stream
	seen    int64        // bytes given so far, to tell a gap from a resend
}

// analyzer inspects one connection; Data calls come one at a time.
type analyzer struct {
	f    *factory
	out  imp.Sink
	st   [2]dirState
	done bool // after fatal
}

// Data inspects the next chunk of dir, following Net::IMP::Pattern's
// data method step by step: the same results, in the same order.
func (a *analyzer) Data(dir imp.Dir, offset int64, typ imp.DataType, data []byte) {
	if a.done {
		return
	}
	f, st := a.f, &a.st[dir]
	if f.cfg.OneDir && dir != f.cfg.Dir {
		return // passed to the end when the analyzer was made
	}
	if offset != 0 && offset != st.seen {
		// Perl dies on any offset ("cannot deal with gaps in data"),
		// which loses the frame and leaves the data provider waiting.
		a.done = true
		a.out.Emit(imp.Fatal("cannot deal with gaps in data"))
		return
	}
	st.seen += int64(len(data))

	var rv []imp.Result
	var buf []byte // the data to match, Perl's $buf (a copy of the buffer)
	keep := false  // without results, buf (the chunk) becomes the buffer
	if typ > 0 || typ != st.buftype {
		// a packet, or a stream of another type: matched on its own
		buf = data
		if len(st.buf) > 0 {
			st.offset += int64(len(st.buf))
			st.buf = nil
			rv = append(rv, imp.Pass(dir, st.offset))
		} else if st.buftype == 0 && typ <= 0 {
			st.buf = append([]byte(nil), data...) // the first stream data
		}
		// Otherwise a stream chunk after data of another type is not
		// buffered: if it yields no result, Perl forgets it.
		st.buftype = typ
	} else if len(st.buf) == 0 {
		buf, keep = data, true // nothing kept from before: match the chunk as it is
	} else {
		st.buf = append(st.buf, data...)
		buf = st.buf
	}

	changed := false   // a packet got replaced
	var newdata []byte // the packet's new content
	rxlen := f.rxlen
	for {
		start, end, ok := f.m.find(buf)
		if ok {
			good, mlen := start, end-start
			if mlen > rxlen {
				// the match is longer than rxlen: match again within
				// rxlen bytes, or move on by one byte
				if e, ok := f.m.prefix(buf[start : start+rxlen]); ok {
					mlen = e
				} else {
					good, mlen = good+1, 0
				}
			}
			if good == 0 && mlen == 0 {
				good = 1 // cannot happen: New refuses patterns that match empty strings
			}
			if good > 0 {
				st.offset += int64(good)
				if typ > 0 {
					newdata = append(newdata, buf[:good]...)
				} else {
					rv = append(rv, imp.Pass(dir, st.offset))
				}
				buf = buf[good:]
			}
			buf = buf[mlen:]
			st.offset += int64(mlen)
			if mlen > 0 {
				switch f.cfg.Action {
				case Deny:
					rv = append(rv, imp.Result{Type: imp.ResultDeny, Args: []perl.Value{perl.Int(dir), f.actData}})
				case Reject:
					if typ > 0 {
						changed = true
					} else {
						rv = append(rv, imp.Replace(dir, st.offset, []byte{}))
					}
					if f.cfg.ActData != "" {
						rv = append(rv, imp.Result{Type: imp.ResultToSender, Args: []perl.Value{perl.Int(dir), f.actData}})
					}
				case Replace:
					if typ > 0 {
						newdata = append(newdata, f.cfg.ActData...)
						changed = true
					} else {
						rv = append(rv, imp.Result{Type: imp.ResultReplace, Args: []perl.Value{perl.Int(dir), perl.Int(st.offset), f.actData}})
					}
				}
				if f.cfg.Action == Deny {
					break // deny is final for this chunk; the buffer is kept
				}
			}
			if len(buf) == 0 {
				break
			}
			continue
		}
		if typ > 0 { // no match: no matches across packets
			st.offset += int64(len(buf))
			if changed {
				newdata = append(newdata, buf...)
			}
			break
		}
		if d := len(buf) - rxlen + 1; d > 0 {
			// keep rxlen-1 bytes to match with the next chunk, pass the
			// rest (also at the end of the data)
			st.offset += int64(d)
			rv = append(rv, imp.Pass(dir, st.offset))
			buf = buf[d:]
			break
		}
		if len(data) == 0 { // end of data: nothing more can match
			rv = append(rv, imp.Pass(dir, imp.MaxOffset))
			buf = nil
		}
		break
	}

	if typ > 0 {
		switch {
		case hasDeny(rv):
		case changed:
			rv = append(rv, imp.Replace(dir, st.offset, newdata))
		default:
			rv = append(rv, imp.Pass(dir, st.offset))
		}
	}
	if len(rv) == 0 {
		// need more data: the buffer stays as it is (with the chunk
		// appended, unless the chunk changed the type: Perl forgets it)
		if keep {
			st.buf = append(st.buf[:0], data...)
		}
		return
	}
	if typ <= 0 {
		if cap(st.buf) > 64<<10 && len(buf) < cap(st.buf)/4 {
			st.buf = nil // do not keep a large chunk's array for a small rest
		}
		st.buf = append(st.buf[:0], buf...) // buf may overlap st.buf: append moves
	}
	for _, r := range rv {
		a.out.Emit(r)
	}
}

func hasDeny(rv []imp.Result) bool {
	for _, r := range rv {
		if r.Type == imp.ResultDeny {
			return true
		}
	}
	return false
}
