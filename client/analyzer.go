package client

import (
	"context"
	"errors"
	"sync"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// Analyzer is the remote analyzer of one inspected connection, made by
// Factory.NewAnalyzer. The caller gives it the connection's data with
// Data and receives its results, in the order the server sent them,
// from the channel Results returns. The channel is closed once the
// analyzer has ended and every result before the end was received (or,
// after Close, at once); Err then tells why it ended.
//
// Results must be received while Data is called (from another
// goroutine, or between calls): Data waits while Options.ResultBuffer
// results are not received. An Analyzer is safe for use by many
// goroutines; calls of Data are serialised.
type Analyzer struct {
	f  *Factory
	s  *session // nil for an analyzer made while the server was unreachable
	id int64
	ch chan imp.Result

	// life is done once the analyzer has ended or was stopped.
	life       context.Context
	cancelLife context.CancelFunc

	sendMu sync.Mutex // serialises Data

	mu           sync.Mutex
	queue        []imp.Result // results waiting for room in ch
	pumping      bool         // a pump goroutine moves queue into ch
	held         int          // 1 while the pump holds a result taken from queue
	pumps        sync.WaitGroup
	chClosed     bool
	stopped      bool          // Close: undelivered results are dropped
	stop         chan struct{} // closed when stopped
	reason       error         // why it ended; nil while running
	space        chan struct{} // closed and replaced when results were received
	spaceWaiters int

	progress Progress // for ErrFinished and ErrDeclined
}

func newAnalyzer(f *Factory, s *session) *Analyzer {
	a := &Analyzer{
		f:     f,
		s:     s,
		ch:    make(chan imp.Result, resultChanCap),
		stop:  make(chan struct{}),
		space: make(chan struct{}),
	}
	a.life, a.cancelLife = context.WithCancel(context.Background())
	return a
}

// ID returns the analyzer's id on its connection (Perl's numbering: from
// 1 on each connection), or 0 for an analyzer made while the server could
// not be reached.
func (a *Analyzer) ID() int64 { return a.id }

// Results returns the channel of the analyzer's results, in the order
// the server sent them. It is closed after the last result once the
// analyzer has ended; results the caller has not received when it calls
// Close are dropped.
func (a *Analyzer) Results() <-chan imp.Result { return a.ch }

// Err returns nil while the analyzer runs, and why it ended once it has:
// ErrFinished, ErrDeclined, ErrClosed, an *ExceptionError (ID 0 for an
// exception that ended the connection), a *ConnectionLostError, a
// *DialError (the server could not be reached when the analyzer was
// made), or an *OverflowError.
func (a *Analyzer) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reason
}

// Done returns a channel that is closed when the analyzer ends (its
// Results may still hold results to receive).
func (a *Analyzer) Done() <-chan struct{} { return a.life.Done() }

// Data sends data of direction dir (imp.FromClient or imp.FromServer) to
// the analyzer: offset 0 when it follows the data sent before, else its
// absolute position in the direction (after a pass into the future let
// data go by); typ the data type (imp.DataStream for a byte stream); an
// empty data is the end of data for dir. Data returns once the data is
// queued for the server, without waiting for an answer, and data may be
// reused then.
//
// Data waits while Options.MaxQueued bytes wait to be written to the
// server or Options.ResultBuffer results of this analyzer wait to be
// received, until there is room, the analyzer ends or ctx is done (with
// Options.WhenFull set to WhenFullFail it returns ErrFull instead). Once the
// analyzer has ended, Data sends nothing and returns Err (ErrFinished
// after a deny, for example). Arguments that cannot be sent give an
// *ArgError or *DataTypeError.
func (a *Analyzer) Data(ctx context.Context, dir imp.Dir, offset int64, typ imp.DataType, data []byte) error {
	if !dir.Valid() {
		return &ArgError{Arg: "dir", Msg: "must be 0 or 1"}
	}
	if offset < 0 {
		return &ArgError{Arg: "offset", Msg: "must not be negative"}
	}
	if !a.f.typeKnown(typ) {
		return &DataTypeError{Type: typ}
	}
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	if err := a.waitRoom(ctx); err != nil {
		return err
	}
	if _, err := a.s.c.Send(&conn.Data{ID: a.id, Dir: dir, Offset: offset, Type: typ, Data: data}); err != nil {
		var le *conn.LimitError
		if errors.As(err, &le) {
			return &ArgError{Arg: "data", Msg: le.Error()}
		}
		return a.sendFailed(err)
	}
	a.mu.Lock()
	end := a.progress.Data(dir, offset, len(data))
	if end != nil && a.reason == nil {
		a.endLocked(end)
	} else {
		end = nil
	}
	a.mu.Unlock()
	if end != nil {
		a.s.remove(a)
	}
	return nil
}

// waitRoom waits until the analyzer may send: its undelivered results
// are below ResultBuffer and the connection's queue is within MaxQueued.
// It returns the end reason of an ended analyzer.
func (a *Analyzer) waitRoom(ctx context.Context) error {
	o := &a.f.opts
	for {
		a.mu.Lock()
		if a.reason != nil {
			err := a.reason
			a.mu.Unlock()
			return err
		}
		if a.pendingLocked() < o.ResultBuffer {
			a.mu.Unlock()
			break
		}
		if o.WhenFull == WhenFullFail {
			a.mu.Unlock()
			return ErrFull
		}
		ch := a.space
		a.spaceWaiters++
		a.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-a.life.Done():
		case <-ctx.Done():
			err = ctx.Err()
		}
		a.mu.Lock()
		a.spaceWaiters--
		a.mu.Unlock()
		if err != nil {
			return err
		}
	}
	c := a.s.c
	if c.Queued() <= o.MaxQueued {
		return nil
	}
	if o.WhenFull == WhenFullFail {
		return ErrFull
	}
	wctx, cancel := context.WithCancel(ctx)
	stopWatch := context.AfterFunc(a.life, cancel)
	err := c.WaitQueued(wctx, o.MaxQueued)
	stopWatch()
	cancel()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if r := a.Err(); r != nil {
		return r
	}
	return a.sendFailed(err)
}

// sendFailed ends the analyzer after a send failed on a closed connection
// (whose watcher may not have ended it yet) and returns the reason.
func (a *Analyzer) sendFailed(err error) error {
	var ce *conn.ClosedError
	if !errors.As(err, &ce) {
		return err
	}
	a.end(a.s.reasonFor(ce.Cause))
	return a.Err()
}

// Close ends the analyzer: it deletes it on the server (delete_analyzer,
// unless it has ended already), drops the results not yet received,
// closes the Results channel, and waits for the analyzer's goroutine.
// Err then returns ErrClosed, or the earlier end reason. Close is safe to
// call more than once and always returns nil.
func (a *Analyzer) Close() error {
	a.halt(ErrClosed)
	if a.s != nil {
		a.s.remove(a)
	}
	a.pumps.Wait()
	return nil
}

// deliver hands a result from the server to the caller and tracks what it
// settles; it returns the end reason if the result ended the analyzer.
// It never waits.
func (a *Analyzer) deliver(r imp.Result) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reason != nil || a.stopped {
		return nil
	}
	if a.pendingLocked() >= a.f.opts.MaxPendingResults {
		err := &OverflowError{ID: a.id, Limit: a.f.opts.MaxPendingResults}
		a.endLocked(err)
		return err
	}
	a.pushLocked(r)
	end := a.progress.Result(r)
	if end != nil {
		a.endLocked(end)
	}
	return end
}

// pendingLocked returns the number of results not yet received.
func (a *Analyzer) pendingLocked() int { return len(a.ch) + len(a.queue) + a.held }

// pushLocked queues r for the caller: straight into the channel when it
// has room and nothing waits before r, else behind the others with a
// pump goroutine moving them.
func (a *Analyzer) pushLocked(r imp.Result) {
	if len(a.queue) == 0 && !a.pumping {
		select {
		case a.ch <- r:
			return
		default:
		}
	}
	a.queue = append(a.queue, r)
	if !a.pumping {
		a.pumping = true
		a.pumps.Add(1)
		a.f.wg.Add(1)
		go a.pump()
	}
}

// pump moves queued results into the channel as the caller receives
// them; it ends when the queue is empty or the analyzer is stopped.
func (a *Analyzer) pump() {
	defer a.f.wg.Done()
	defer a.pumps.Done()
	for {
		a.mu.Lock()
		if a.stopped || len(a.queue) == 0 {
			a.pumping = false
			a.queue = nil
			if a.stopped || a.reason != nil {
				a.closeChLocked()
			}
			a.wakeSpaceLocked()
			a.mu.Unlock()
			return
		}
		r := a.queue[0]
		a.queue[0] = imp.Result{}
		a.queue = a.queue[1:]
		a.held = 1
		a.mu.Unlock()
		select {
		case a.ch <- r:
		case <-a.stop:
		}
		a.mu.Lock()
		a.held = 0
		a.wakeSpaceLocked()
		a.mu.Unlock()
	}
}

// wakeSpaceLocked lets the Data calls waiting for room check again.
func (a *Analyzer) wakeSpaceLocked() {
	if a.spaceWaiters > 0 {
		close(a.space)
		a.space = make(chan struct{})
	}
}

// end ends the analyzer with reason, unless it has ended already.
func (a *Analyzer) end(reason error) {
	a.mu.Lock()
	a.endLocked(reason)
	a.mu.Unlock()
}

// endLocked sets the end reason; the channel is closed once the results
// before the end have been received.
func (a *Analyzer) endLocked(reason error) {
	if a.reason != nil {
		return
	}
	a.reason = reason
	a.cancelLife()
	if !a.pumping {
		a.closeChLocked()
	}
}

// halt stops the analyzer (Close, or the factory's Close): it ends with
// reason unless it has ended already, and its undelivered results are
// dropped.
func (a *Analyzer) halt(reason error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.stopped = true
	close(a.stop)
	a.endLocked(reason)
	if !a.pumping {
		a.closeChLocked()
	}
	a.wakeSpaceLocked()
}

// closeChLocked closes the results channel, once, and lets the factory
// forget the analyzer.
func (a *Analyzer) closeChLocked() {
	if a.chClosed {
		return
	}
	a.chClosed = true
	close(a.ch)
	a.f.forget(a)
}

// failWith gives an analyzer made while the server was unreachable the
// results of the failure mode, as Perl's client does, and ends it with
// err.
func (a *Analyzer) failWith(err *DialError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f.opts.Fail == FailSoft {
		a.pushLocked(imp.Log(imp.FromClient, 0, 0, imp.LogError, err.perlMessage()+": pass all"))
		a.pushLocked(imp.Pass(imp.FromClient, imp.MaxOffset))
		a.pushLocked(imp.Pass(imp.FromServer, imp.MaxOffset))
	} else {
		a.pushLocked(imp.Fatal(err.perlMessage()))
	}
	a.endLocked(err)
}
