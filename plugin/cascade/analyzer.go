package cascade

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// The cascade keeps, per direction and part, the buffers the part has
// seen and not yet passed on, with their positions in the part's view
// of the stream (start, end: after the replacements of the parts before
// it) and in the data provider's (gstart, gend). This follows
// Net::IMP::Cascade's design, so that results come out the same.

// buf is a piece of data inside a part.
type buf struct {
	start, end   int64 // in the part's stream
	gstart, gend int64 // in the data provider's stream
	data         []byte
	promised     bool           // under a replace_later promise (Perl: data undef)
	dtype        imp.DataType   // 0: the placeholder at the end of an empty buffer list
	rtype        imp.ResultType // pass, prepass or replace: how it goes on
	gap          int64          // bytes skipped before it (data passed unseen)
	eof          bool           // the end of the direction
}

// part is the state of one part in one direction.
type part struct {
	ibuf         []*buf
	pass         int64 // may pass up to here (0: nothing, MaxOffset: all)
	prepass      int64
	replaceLater int64
	adjust       int64 // how much the part's replacements changed the length
}

// slot is a part in one direction, or, once the part is done with the
// direction, the length change it made (Perl keeps a number in its place).
type slot struct {
	p      *part
	adjust int64
}

// fwd is something to forward: a buffer from part pi (nil buf: the part
// is done with dir), or a result to pass to the data provider in order
// (pi -1).
type fwd struct {
	pi     int
	dir    imp.Dir
	buf    *buf
	result imp.Result
}

// queued is a batch of results a part emitted.
type queued struct {
	pi      int
	results []imp.Result
}

// perlBugs switches back on Net::IMP::Cascade's bugs that change results
// without making Perl die, for the tests that compare the engine with
// Perl step by step.
type perlBugs struct {
	// feedPlaceholder gives a part the empty placeholder a replacement
	// leaves, which the part takes for the end of the direction.
	feedPlaceholder bool
	// packetPlaceholder keeps that placeholder in front of the next
	// packet, which then never goes on.
	packetPlaceholder bool
}

// analyzer is a cascade's analyzer.
type analyzer struct {
	out    imp.Sink
	cancel context.CancelFunc
	bugs   perlBugs

	mu    sync.Mutex // guards everything below
	parts [2][]slot
	an    []imp.Analyzer // nil for a part that declined
	pause [2][]bool
	done  bool // after fatal

	qmu       sync.Mutex // guards the three below
	queue     []queued
	openPi    int // the part being called, -1 for none
	openBatch []imp.Result
}

// partSink receives the results of one part.
type partSink struct {
	a  *analyzer
	pi int
}

// Emit queues r and processes the queue unless another goroutine is
// processing it (then it will). Results a part gives during one call of
// its Data (or NewAnalyzer) form one batch, as the results of one
// callback of a Perl plugin do.
func (s partSink) Emit(r imp.Result) {
	a := s.a
	a.qmu.Lock()
	if a.openPi == s.pi {
		a.openBatch = append(a.openBatch, r)
		a.qmu.Unlock()
		return
	}
	a.queue = append(a.queue, queued{pi: s.pi, results: []imp.Result{r}})
	a.qmu.Unlock()
	a.drain()
}

// call runs fn, a call into part pi, collecting the results the part
// gives meanwhile into one batch.
func (a *analyzer) call(pi int, fn func()) {
	a.qmu.Lock()
	a.openPi, a.openBatch = pi, nil
	a.qmu.Unlock()
	defer func() {
		a.qmu.Lock()
		if len(a.openBatch) > 0 {
			a.queue = append(a.queue, queued{pi: pi, results: a.openBatch})
		}
		a.openPi, a.openBatch = -1, nil
		a.qmu.Unlock()
	}()
	fn()
}

// drain processes queued results if no other goroutine holds the state.
// The holder drains before it lets go, and checks the queue again after.
func (a *analyzer) drain() {
	for {
		if !a.mu.TryLock() {
			return
		}
		a.unlockAfter(a.process)
		a.qmu.Lock()
		empty := len(a.queue) == 0
		a.qmu.Unlock()
		if empty {
			return
		}
	}
}

// process handles queued results until there are none; a.mu is held.
func (a *analyzer) process() {
	for {
		a.qmu.Lock()
		if len(a.queue) == 0 {
			a.qmu.Unlock()
			return
		}
		q := a.queue[0]
		a.queue = a.queue[1:]
		a.qmu.Unlock()
		if a.done {
			continue
		}
		if err := a.callback(q.pi, q.results); err != nil {
			a.fail(err)
		}
	}
}

// fail ends the analysis with fatal, where Perl's cascade dies.
func (a *analyzer) fail(err error) {
	if a.done {
		return
	}
	a.done = true
	a.out.Emit(imp.Fatal("cascade: " + err.Error()))
}

// NewAnalyzer makes the parts' analyzers. Results the parts give while
// they are made are handled after all are made, in part order, as Perl
// handles them when it sets the callbacks.
func (f *factory) NewAnalyzer(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	ctx, cancel := context.WithCancel(ctx)
	n := len(f.parts)
	a := &analyzer{out: out, cancel: cancel, bugs: f.bugs, an: make([]imp.Analyzer, n), openPi: -1}
	for d := range a.parts {
		a.parts[d] = make([]slot, n)
		a.pause[d] = make([]bool, n)
	}
	a.mu.Lock()
	declined := 0
	for i, p := range f.parts {
		var an imp.Analyzer
		var err error
		a.call(i, func() { an, err = p.NewAnalyzer(ctx, meta, partSink{a: a, pi: i}) })
		if err != nil {
			a.mu.Unlock()
			cancel()
			return nil, fmt.Errorf("cascade: part %d: %w", i+1, err)
		}
		a.an[i] = an
		for d := range a.parts {
			if an == nil { // declined: as if it passed both directions
				a.parts[d][i] = slot{}
			} else {
				a.parts[d][i] = slot{p: newPart()}
			}
		}
		if an == nil {
			declined++
		}
	}
	if declined == n {
		a.mu.Unlock()
		cancel()
		return nil, nil
	}
	// results of declined parts do not count
	a.qmu.Lock()
	kept := a.queue[:0]
	for _, q := range a.queue {
		if a.an[q.pi] != nil {
			kept = append(kept, q)
		}
	}
	a.queue = kept
	a.qmu.Unlock()
	a.process()
	a.mu.Unlock()
	a.drain()
	return a, nil
}

func newPart() *part { return &part{ibuf: []*buf{{rtype: imp.ResultPass}}} }

// Data feeds a chunk into the first part of dir that still inspects it
// (Perl's global_in), then handles the parts' results.
func (a *analyzer) Data(dir imp.Dir, offset int64, typ imp.DataType, data []byte) {
	a.mu.Lock()
	a.unlockAfter(func() {
		if !a.done {
			if err := a.globalIn(dir, offset, typ, data); err != nil {
				a.fail(err)
			}
			a.process()
		}
	})
	a.drain()
}

// unlockAfter runs fn and unlocks a.mu, also when a part panics (the
// server then fails the analyzer; nothing may stay locked).
func (a *analyzer) unlockAfter(fn func()) {
	defer a.mu.Unlock()
	fn()
}

func (a *analyzer) step(dir imp.Dir) int {
	if dir == imp.FromServer {
		return -1
	}
	return 1
}

func (a *analyzer) globalIn(dir imp.Dir, offset int64, typ imp.DataType, data []byte) error {
	if typ == 0 {
		typ = imp.DataStream // Perl's 0 would make the buffer a placeholder
	}
	b := &buf{data: bytes.Clone(data), dtype: typ, rtype: imp.ResultPass, eof: len(data) == 0}
	n := len(a.an)
	pi := 0
	if dir == imp.FromServer {
		pi = n - 1
	}
	var adjust int64
	for a.parts[dir][pi].p == nil {
		adjust += a.parts[dir][pi].adjust
		pi += a.step(dir)
		if pi < 0 || pi >= n {
			return nil // every part is done with dir: pass(dir, -1) went out
		}
	}
	np := a.parts[dir][pi].p
	end := np.ibuf[len(np.ibuf)-1].gend
	switch {
	case offset == 0 || offset == end:
		b.gstart = end
	case offset < end:
		return fmt.Errorf("overlapping data (offset %d before %d)", offset, end)
	default:
		b.gstart, b.gap = offset, offset-end
	}
	b.gend = b.gstart + int64(len(data))
	b.start, b.end = b.gstart+adjust, b.gend+adjust
	return a.partIn(pi, dir, b)
}

// partIn adds b to part pi of dir, forwards what the part already allows
// and gives the part the data it has not seen.
func (a *analyzer) partIn(pi int, dir imp.Dir, b *buf) error {
	p := a.parts[dir][pi].p
	lbuf := p.ibuf[len(p.ibuf)-1]
	lend := lbuf.end
	switch {
	case lbuf.eof:
		return fmt.Errorf("data after end of data in part %d, direction %d", pi+1, dir)
	case b.start < lend:
		return fmt.Errorf("overlapping data in part %d, direction %d", pi+1, dir)
	case b.start > lend && b.gap == 0:
		return fmt.Errorf("gap without offset in part %d, direction %d", pi+1, dir)
	case b.start == lend && b.gap != 0:
		return fmt.Errorf("offset without gap in part %d, direction %d", pi+1, dir)
	case p.pass == imp.MaxOffset:
		return fmt.Errorf("data for part %d, direction %d, which passed everything", pi+1, dir)
	}

	switch {
	case len(lbuf.data) == 0 && !lbuf.promised && (lbuf.rtype == imp.ResultPass || lbuf.dtype == 0 && !lbuf.eof && !a.bugs.packetPlaceholder):
		// the placeholder of an empty buffer list (Perl does not see a
		// packet's placeholder after a replacement as one, and then never
		// forwards anything behind it)
		if len(p.ibuf) != 1 {
			return fmt.Errorf("placeholder buffer not alone in part %d", pi+1)
		}
		p.ibuf[0] = b
	case b.gap == 0 && len(b.data) == 0 && b.rtype == lbuf.rtype && b.dtype == lbuf.dtype && b.dtype < 0 && !b.eof:
		lbuf.end, lbuf.gend = b.end, b.gend // nothing new to analyze
		return nil
	default:
		p.ibuf = append(p.ibuf, b)
	}

	fw, err := a.fwdCollect(dir, pi, len(p.ibuf)-1, &lend)
	if err != nil {
		return err
	}
	if lend < b.end || b.eof && lend <= b.end {
		rl := p.replaceLater
		for k := 0; k < len(p.ibuf); k++ {
			x := p.ibuf[k]
			if x.start < lend {
				continue
			}
			if x.start > lend && x.start != lend+x.gap {
				// (Perl dies on any gap here, so it cannot go on after a
				// pass into the future.)
				return fmt.Errorf("buffers out of step in part %d", pi+1)
			}
			lend = x.end
			var off int64
			if x.gap != 0 {
				off = x.start
			}
			if len(x.data) == 0 && !x.eof && !a.bugs.feedPlaceholder {
				// Perl gives the part empty data here, which is the end
				// of the direction for it: a placeholder left by a
				// replacement. The part sees nothing instead.
				continue
			}
			a.call(pi, func() { a.an[pi].Data(dir, off, x.dtype, x.data) })
			if b.eof && len(x.data) > 0 {
				a.call(pi, func() { a.an[pi].Data(dir, 0, x.dtype, nil) })
			}
			if rl == 0 {
				continue
			}
			if rl == imp.MaxOffset || rl >= lend {
				b.promised = true
			} else {
				rl, p.replaceLater = 0, 0
			}
		}
	}
	if len(fw) > 0 {
		return a.execFwd(fw)
	}
	return nil
}

// fwdCollect takes the buffers of part pi that its pass and prepass
// allow, starting at ibuf[i]. With passed (from partIn), prepassed
// buffers stay (the part still has to see them) and passed records how
// far data went.
func (a *analyzer) fwdCollect(dir imp.Dir, pi, i int, passed *int64) ([]fwd, error) {
	p := a.parts[dir][pi].p
	var fw []fwd
	for _, pre := range [2]bool{false, true} {
		limit := p.pass
		if pre {
			limit = p.prepass
		}
		if limit == 0 {
			continue
		}
		for i < len(p.ibuf) {
			b := p.ibuf[i]
			if b.dtype == 0 { // placeholder
				break
			}
			if limit != imp.MaxOffset && b.start >= limit {
				if pre {
					p.prepass = 0
				} else {
					p.pass = 0
				}
				break
			}
			// Perl dies on a promised buffer here; it is passed as it is.
			if limit != imp.MaxOffset && b.end > limit {
				if err := splitBuf(&p.ibuf, i, limit-b.start); err != nil {
					return nil, err
				}
				continue
			}
			if pre && b.rtype == imp.ResultPass {
				b.rtype = imp.ResultPrepass
			}
			fw = append(fw, fwd{pi: pi, dir: dir, buf: b})
			if passed != nil && pre {
				i++
				continue
			}
			if passed != nil {
				*passed = b.end
			}
			// As in Perl, the first buffer goes, whatever i is.
			p.ibuf = p.ibuf[1:]
			if len(p.ibuf) == 0 {
				if p.pass == imp.MaxOffset || b.eof {
					fw = append(fw, fwd{pi: pi, dir: dir}) // the part is done
				}
				nb := &buf{start: b.end, end: b.end, gstart: b.gend, gend: b.gend, rtype: imp.ResultPass}
				if b.dtype < 0 {
					nb.dtype = b.dtype
				}
				p.ibuf = []*buf{nb}
				break
			}
		}
	}
	return fw, nil
}

// splitBuf splits ibuf[i] after n bytes.
func splitBuf(ibuf *[]*buf, i int, n int64) error {
	b := (*ibuf)[i]
	if b.dtype > 0 {
		return fmt.Errorf("cannot split a packet")
	}
	before := *b
	before.eof = false
	before.end = b.start + n
	before.data = b.data[:n:n]
	b.data = b.data[n:]
	b.gap = 0
	b.start = before.end
	if b.rtype != imp.ResultReplace {
		b.gstart += n
		before.gend = b.gstart
	} else {
		b.gstart = b.gend
	}
	*ibuf = append((*ibuf)[:i], append([]*buf{&before}, (*ibuf)[i:]...)...)
	return nil
}

// fwdUp returns the result for a buffer that leaves the cascade.
func fwdUp(dir imp.Dir, b *buf) (imp.Result, bool) {
	if b.gstart == b.gend && b.gap == 0 && (b.rtype == imp.ResultPass || b.rtype == imp.ResultPrepass) {
		return imp.Result{}, false // nothing new
	}
	if b.rtype == imp.ResultReplace {
		return imp.Replace(dir, b.gend, b.data), true
	}
	return imp.Result{Type: b.rtype, Args: []perl.Value{perl.Int(dir), perl.Int(b.gend)}}, true
}

// concat returns a followed by b in a new array (buffers share arrays).
func concat(a, b []byte) []byte {
	if len(b) == 0 {
		return a
	}
	return append(a[:len(a):len(a)], b...)
}

// execFwd merges adjacent buffers of one part, then forwards each to the
// next part that still inspects the direction, or out of the cascade.
func (a *analyzer) execFwd(fw []fwd) error {
	if len(fw) > 1 {
		var last *buf // the buffer merged into, nil after a break
		var lpi int
		var ldir imp.Dir
		for i := 0; i < len(fw); i++ {
			f := fw[i]
			if f.pi < 0 || f.buf == nil {
				last = nil
				continue
			}
			if last == nil || lpi != f.pi || ldir != f.dir {
				last, lpi, ldir = f.buf, f.pi, f.dir
				continue
			}
			b := f.buf
			if b.gap != 0 || b.dtype >= 0 || b.start != last.end || b.rtype != last.rtype || b.dtype != last.dtype {
				last, lpi, ldir = b, f.pi, f.dir
				continue
			}
			if b.rtype == imp.ResultReplace && last.gend != b.gend && (len(b.data) > 0 || len(last.data) > 0) {
				continue // as in Perl, without moving on to b
			}
			if b.rtype != imp.ResultReplace || last.gend == b.gend {
				last.data = concat(last.data, b.data)
			}
			last.gend, last.end, last.eof = b.gend, b.end, b.eof
			fw = append(fw[:i], fw[i+1:]...)
			i--
		}
	}
	n := len(a.an)
	for len(fw) > 0 {
		f := fw[0]
		fw = fw[1:]
		if f.pi < 0 {
			a.out.Emit(f.result)
			continue
		}
		if f.buf == nil { // part f.pi is done with f.dir
			s := &a.parts[f.dir][f.pi]
			if s.p == nil {
				continue
			}
			s.adjust, s.p = s.p.adjust, nil
			if a.allDone(f.dir) {
				a.out.Emit(imp.Pass(f.dir, imp.MaxOffset))
			}
			continue
		}
		b := f.buf
		npi := f.pi
		var np *part
		var adjust int64
		for {
			npi += a.step(f.dir)
			if npi < 0 || npi >= n {
				break
			}
			if s := a.parts[f.dir][npi]; s.p != nil {
				np = s.p
				break
			} else {
				adjust += s.adjust
			}
		}
		if b.eof {
			fw = append(fw, fwd{pi: f.pi, dir: f.dir})
		}
		if np == nil {
			if r, ok := fwdUp(f.dir, b); ok {
				a.out.Emit(r)
			}
			continue
		}
		nib := np.ibuf
		b.start = nib[len(nib)-1].end + b.gap + adjust
		b.end = b.start + int64(len(b.data))
		if err := a.partIn(npi, f.dir, b); err != nil {
			return err
		}
	}
	return nil
}

func (a *analyzer) allDone(dir imp.Dir) bool {
	for _, s := range a.parts[dir] {
		if s.p != nil {
			return false
		}
	}
	return true
}

// callback handles a batch of results of part pi (Perl's _imp_callback).
func (a *analyzer) callback(pi int, rs []imp.Result) error {
	var fw []fwd
	for _, r := range rs {
		switch r.Type {
		case imp.ResultFatal, imp.ResultDeny, imp.ResultDrop, imp.ResultAcctField:
			a.out.Emit(r)
		case imp.ResultLog, imp.ResultPortOpen, imp.ResultPortClose:
			a.out.Emit(a.mapOffset(pi, r))
		case imp.ResultToSender:
			fw = append(fw, fwd{pi: -1, result: r})
		case imp.ResultPause, imp.ResultContinue:
			a.flow(pi, r)
		case imp.ResultPass, imp.ResultPrepass:
			more, err := a.passed(pi, r)
			if err != nil {
				return err
			}
			fw = append(fw, more...)
		case imp.ResultReplace:
			more, err := a.replace(pi, r)
			if err != nil {
				return err
			}
			fw = append(fw, more...)
		case imp.ResultReplaceLater:
			a.replaceLater(pi, r)
		default:
			return fmt.Errorf("part %d gave %s, which a cascade cannot handle", pi+1, r.Type)
		}
	}
	if len(fw) > 0 {
		return a.execFwd(fw)
	}
	return nil
}

// mapOffset maps the offset of a log (port_open, port_close) result of
// part pi into the data provider's stream, approximately, as Perl does.
func (a *analyzer) mapOffset(pi int, r imp.Result) imp.Result {
	dir, ok1 := r.Dir()
	offset, ok2 := r.Offset()
	if !ok1 || !ok2 {
		return r
	}
	p := a.parts[dir][pi].p
	if p == nil {
		return r // Perl dies here
	}
	changed := false
	for _, b := range p.ibuf {
		if b.start > offset {
			break
		}
		if b.rtype == imp.ResultReplace {
			offset = b.gstart
		} else {
			offset = b.gstart - b.start + offset
		}
		changed = true
	}
	if !changed {
		return r
	}
	args := append([]perl.Value(nil), r.Args...)
	args[1] = perl.Int(offset)
	return imp.Result{Type: r.Type, Args: args}
}

// flow handles pause and continue: pause(dir) when the first part pauses
// dir, continue(dir) when the last one continues.
func (a *analyzer) flow(pi int, r imp.Result) {
	dir, ok := r.Dir()
	if !ok {
		return // no direction: nothing to go by
	}
	paused := func() bool {
		for _, p := range a.pause[dir] {
			if p {
				return true
			}
		}
		return false
	}
	before := paused()
	a.pause[dir][pi] = r.Type == imp.ResultPause
	if after := paused(); after != before {
		if after {
			a.out.Emit(imp.Pause(dir))
		} else {
			a.out.Emit(imp.Continue(dir))
		}
	}
}

// passed handles pass and prepass of part pi.
func (a *analyzer) passed(pi int, r imp.Result) ([]fwd, error) {
	dir, ok1 := r.Dir()
	offset, ok2 := r.Offset()
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("part %d gave %s", pi+1, r)
	}
	p := a.parts[dir][pi].p
	if p == nil {
		return nil, nil // the part is done with dir
	}
	if r.Type == imp.ResultPass {
		switch {
		case p.pass == imp.MaxOffset:
			return nil, nil
		case offset == imp.MaxOffset:
			p.pass, p.prepass = imp.MaxOffset, 0
		case offset > p.pass:
			p.pass = offset
			if p.prepass != imp.MaxOffset && p.prepass <= offset {
				p.prepass = 0
			}
		default:
			return nil, nil
		}
	} else {
		switch {
		case p.prepass == imp.MaxOffset:
			return nil, nil
		case offset == imp.MaxOffset, offset > p.prepass:
			p.prepass = offset
		default:
			return nil, nil
		}
	}
	fw, err := a.fwdCollect(dir, pi, 0, nil)
	if err != nil {
		return nil, err
	}
	if p.pass == imp.MaxOffset && len(p.ibuf) == 1 && p.ibuf[0].dtype == 0 {
		// Nothing waits: the part is done with dir now. (Perl leaves it
		// in place and dies on the next data.)
		fw = append(fw, fwd{pi: pi, dir: dir})
	}
	return fw, nil
}

// replace handles replace of part pi.
func (a *analyzer) replace(pi int, r imp.Result) ([]fwd, error) {
	dir, ok1 := r.Dir()
	offset, ok2 := r.Offset()
	newdata, ok3 := r.Data()
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("part %d gave %s", pi+1, r)
	}
	p := a.parts[dir][pi].p
	switch {
	case p == nil:
		return nil, fmt.Errorf("part %d replaced data it had passed", pi+1)
	case offset == imp.MaxOffset:
		return nil, fmt.Errorf("part %d replaced to the end (offset -1)", pi+1)
	case p.ibuf[0].start > offset:
		return nil, fmt.Errorf("part %d replaced data it had passed", pi+1)
	}
	var fw []fwd
	for len(p.ibuf) > 0 {
		b := p.ibuf[0]
		if offset < b.end {
			if err := splitBuf(&p.ibuf, 0, offset-b.start); err != nil {
				return nil, err
			}
			continue
		}
		if b.promised || !bytes.Equal(b.data, newdata) {
			b.rtype, b.data, b.promised = imp.ResultReplace, newdata, false
			p.adjust += int64(len(newdata)) - (b.end - b.start)
			newdata = []byte{} // the next buffers are replaced by nothing
		}
		fw = append(fw, fwd{pi: pi, dir: dir, buf: b})
		p.ibuf = p.ibuf[1:]
		if len(p.ibuf) == 0 {
			if b.end < offset {
				return nil, fmt.Errorf("part %d replaced data it has not seen", pi+1)
			}
			nb := *b // as Perl, the new placeholder copies b (its rtype too)
			nb.data, nb.promised = []byte{}, false
			nb.start, nb.end, nb.gstart = b.end, b.end, b.gend
			if b.dtype > 0 {
				nb.dtype = 0
			}
			p.ibuf = []*buf{&nb}
			b.eof = false // the placeholder carries it now
			break
		}
		if b.end == offset {
			break
		}
	}
	return fw, nil
}

// replaceLater marks buffers of part pi as promised to be replaced.
func (a *analyzer) replaceLater(pi int, r imp.Result) {
	dir, ok1 := r.Dir()
	offset, ok2 := r.Offset()
	if !ok1 || !ok2 {
		return
	}
	p := a.parts[dir][pi].p
	if p == nil || offset != imp.MaxOffset && p.ibuf[0].start > offset {
		return // Perl dies: a hint about passed data, ignored here
	}
	switch {
	case offset == imp.MaxOffset:
		// Perl marks the buffers it has, and (reading $_ by mistake)
		// does not remember the promise for later ones.
		for _, b := range p.ibuf {
			b.promised = true
		}
	case offset <= p.replaceLater:
	default:
		p.replaceLater = offset
		for _, b := range p.ibuf {
			if b.promised {
				continue
			}
			if len(b.data) == 0 {
				break
			}
			if b.start+int64(len(b.data)) > offset {
				p.replaceLater = 0
				break
			}
			b.promised = true
		}
	}
}
