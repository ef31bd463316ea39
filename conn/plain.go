package conn

import "github.com/goimp/imprpc/perl"

// plainEncoder writes the plain scalars (integers, strings, undef) of one
// wire, for the fast paths of data and result frames, which write their
// arguments without building perl.Values.
type plainEncoder struct {
	int func(dst []byte, n int64) []byte
	// last writes an integer that is the last scalar of a frame.
	last func(dst []byte, n int64) []byte
	// strHead writes the tag of a string of n bytes; the bytes follow.
	strHead func(dst []byte, n int, utf8 bool) []byte
	undef   byte
}

// data writes the five arguments of a data frame.
func (e plainEncoder) data(dst []byte, d *Data) []byte {
	dst = e.int(dst, d.ID)
	dst = e.int(dst, int64(d.Dir))
	if d.UndefOffset && d.Offset == 0 {
		dst = append(dst, e.undef)
	} else {
		dst = e.int(dst, d.Offset)
	}
	dst = e.int(dst, int64(d.Type))
	return append(e.strHead(dst, len(d.Data), d.UTF8), d.Data...)
}

// result writes the id, type and arguments of a result; ok is false when
// an argument is not a plain scalar (dst is then unusable).
func (e plainEncoder) result(dst []byte, r *Result) ([]byte, bool) {
	dst = e.int(dst, r.ID)
	args := r.Result.Args
	if len(args) == 0 {
		return e.last(dst, int64(r.Result.Type)), true
	}
	dst = e.int(dst, int64(r.Result.Type))
	for i, v := range args {
		switch v := v.(type) {
		case perl.Int:
			if i == len(args)-1 {
				dst = e.last(dst, int64(v))
			} else {
				dst = e.int(dst, int64(v))
			}
		case perl.Bytes:
			dst = append(e.strHead(dst, len(v), false), v...)
		case perl.String:
			dst = append(e.strHead(dst, len(v), true), v...)
		case perl.Undef:
			if v.Of != perl.UndefPlain {
				return dst, false
			}
			dst = append(dst, e.undef)
		default:
			return dst, false
		}
	}
	return dst, true
}
