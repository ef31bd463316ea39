package client

import "github.com/goimp/imprpc/imp"

// Progress follows how far the results of one analyzer have settled the
// data given to it, to tell when the analysis is complete: what an
// Analyzer uses for ErrFinished and ErrDeclined, for data providers
// (and in-process plugins) that need the same judgement. Give it every
// chunk of data sent (Data) and every result received (Result), in
// order. The zero value is ready; it is not safe for concurrent use.
type Progress struct {
	results  int      // results seen
	sent     [2]int64 // end position of the data sent per direction
	eof      [2]bool  // end of data sent per direction
	passed   [2]int64 // how far each direction was passed or replaced; imp.MaxOffset: all
	settled  [2]bool  // a pass or replace was seen for the direction
	passAll0 bool     // the first result was pass(0, -1)
}

// Data notes a chunk of n bytes sent for dir at offset (0: following the
// data before); n 0 is the end of data for dir. It returns ErrFinished
// when this completes the analysis (the direction had been passed to a
// point that the end of data now shows to be its end).
func (p *Progress) Data(dir imp.Dir, offset int64, n int) error {
	if !dir.Valid() {
		return nil
	}
	if offset != 0 {
		p.sent[dir] = offset
	}
	p.sent[dir] += int64(n)
	if n == 0 {
		p.eof[dir] = true
	}
	if p.Done() {
		return ErrFinished
	}
	return nil
}

// Result notes a result and returns ErrFinished when it completes the
// analysis: deny, drop or fatal, or a pass or replace after which both
// directions are settled to their end (pass with offset -1, or up to the
// end of data sent for the direction); ErrDeclined when the first two
// results are pass(0, -1) and pass(1, -1), how a server answers for a
// plugin that declines; nil otherwise.
func (p *Progress) Result(r imp.Result) error {
	p.results++
	if r.Type.Final() {
		return ErrFinished
	}
	if r.Type != imp.ResultPass && r.Type != imp.ResultReplace {
		return nil
	}
	dir, ok := r.Dir()
	off, ok2 := r.Offset()
	if !ok || !ok2 {
		return nil
	}
	if off == imp.MaxOffset || p.passed[dir] == imp.MaxOffset {
		p.passed[dir] = imp.MaxOffset
	} else {
		p.passed[dir] = max(p.passed[dir], off)
	}
	p.settled[dir] = true
	passAll := r.Type == imp.ResultPass && off == imp.MaxOffset
	if p.results == 1 {
		p.passAll0 = passAll && dir == imp.FromClient
	}
	if !p.Done() {
		return nil
	}
	if p.results == 2 && p.passAll0 && passAll && dir == imp.FromServer {
		return ErrDeclined
	}
	return ErrFinished
}

// Done reports whether both directions are settled to their end.
func (p *Progress) Done() bool { return p.dirDone(0) && p.dirDone(1) }

func (p *Progress) dirDone(d imp.Dir) bool {
	if !p.settled[d] {
		return false
	}
	return p.passed[d] == imp.MaxOffset || p.eof[d] && p.passed[d] >= p.sent[d]
}
