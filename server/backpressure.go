package server

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// The accounting of what a connection holds: each analyzer counts the
// bytes of data queued for it (pendingIn) and keeps the end positions of
// its results not yet written (out); the session counts the data of all
// analyzers and the highest end position sent. The checks on the hot
// paths use only these counters and a recent reading of the connection's
// Written, which is never ahead of the real one, so that they never
// underestimate; only when they find the limit passed do they ask the
// connection and look at the analyzers.

// maxOutRecs is how many results an analyzer keeps apart; beyond it the
// newest are merged, which overestimates its share a little.
const maxOutRecs = 64

// resultSize estimates the bytes of a result's frame.
func resultSize(r imp.Result) int64 {
	const overhead = 48
	if r.Type == imp.ResultReplace || r.Type == imp.ResultToSender {
		if d, ok := r.Data(); ok {
			return overhead + int64(len(d))
		}
	}
	return overhead
}

// noteSent notes a result sent up to end; emu is held.
func (a *analyzer) noteSent(end, size int64) {
	ss := a.ss
	for {
		old := ss.sentEnd.Load()
		if end <= old || ss.sentEnd.CompareAndSwap(old, end) {
			break
		}
	}
	if len(a.out) >= maxOutRecs/2 {
		a.trimOut(ss.noteWritten(a.c.Written()))
	}
	a.outSum += size
	if n := len(a.out); n >= maxOutRecs {
		a.out[n-1] = outRec{end: end, size: a.out[n-1].size + size}
		return
	}
	a.out = append(a.out, outRec{end: end, size: size})
}

// trimOut forgets the results written up to w; emu is held.
func (a *analyzer) trimOut(w int64) {
	i := 0
	for i < len(a.out) && a.out[i].end <= w {
		a.outSum -= a.out[i].size
		i++
	}
	if i > 0 {
		a.out = append(a.out[:0], a.out[i:]...)
	}
}

// held returns the bytes the analyzer holds, given that the connection
// has written w.
func (a *analyzer) held(w int64) int64 {
	a.emu.Lock()
	a.trimOut(w)
	out := a.outSum
	a.emu.Unlock()
	return out + a.pendingIn.Load()
}

// noteWritten records a reading of Written and returns it.
func (ss *session) noteWritten(w int64) int64 {
	for {
		old := ss.writtenHint.Load()
		if w <= old || ss.writtenHint.CompareAndSwap(old, w) {
			return w
		}
	}
}

// estimate returns an upper bound of what the connection holds.
func (ss *session) estimate() int64 {
	return ss.sentEnd.Load() - ss.writtenHint.Load() + ss.pendingIn.Load()
}

// checkSent checks the limit after a result was sent.
func (ss *session) checkSent(c *conn.Conn) {
	if lim := ss.srv.maxBuffered(); lim >= 0 && ss.estimate() > lim {
		ss.checkBuffered(c)
	}
}

// checkBuffered checks the limit and, past it, relieves the connection.
func (ss *session) checkBuffered(c *conn.Conn) {
	lim := ss.srv.maxBuffered()
	if lim < 0 || ss.estimate() <= lim {
		return
	}
	w := ss.noteWritten(c.Written())
	if ss.sentEnd.Load()-w+ss.pendingIn.Load() <= lim {
		return
	}
	ss.relieve(c, lim)
}

// relieve fails the live analyzers that hold the most until those left
// hold at most half the limit, and closes the connection when it still
// holds more than twice the limit (results of failed analyzers that the
// client does not read).
func (ss *session) relieve(c *conn.Conn, lim int64) {
	if !ss.relieveMu.TryLock() {
		return // another goroutine is at it
	}
	defer ss.relieveMu.Unlock()
	w := ss.noteWritten(c.Written())
	queued := c.Queued()
	total := queued + ss.pendingIn.Load()
	if total <= lim {
		return
	}
	type holder struct {
		a    *analyzer
		held int64
	}
	var live []holder
	var sum int64
	for _, a := range ss.reg.All() {
		if a.state.Load() != stateLive {
			continue
		}
		if h := a.held(w); h > 0 {
			live = append(live, holder{a, h})
			sum += h
		}
	}
	slices.SortFunc(live, func(x, y holder) int { return cmp.Compare(y.held, x.held) })
	for _, h := range live {
		if sum <= lim/2 {
			break
		}
		h.a.fail(fmt.Sprintf("server buffer limit exceeded: the analyzer held %d bytes, the connection %d of at most %d", h.held, total, lim),
			"imprpc server: buffer limit exceeded: analyzer failed", "held", h.held, "buffered", total, "limit", lim)
		sum -= h.held
	}
	if queued = c.Queued(); queued > 2*lim {
		ss.log.Warn("imprpc server: closing the connection: the client does not read its results", "topic", topicConn, "queued", queued, "limit", lim)
		ss.close(fmt.Errorf("server: %d bytes of results queued, more than twice the limit of %d: the client does not read", queued, lim))
	}
}
