package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// The states of an analyzer.
const (
	stateLive     int32 = iota // made, or being made: takes data, sends results
	stateDeclined              // the plugin declined: data is ignored
	stateFailed                // fatal or exception sent: data is ignored
	stateDeleted               // deleted, or its connection is gone
)

// analyzer is one analyzer of a connection: the plugin's analyzer, the
// queue of data for it, and the sink its results go through.
type analyzer struct {
	ss     *session
	c      *conn.Conn
	id     int64
	ctx    context.Context
	cancel context.CancelFunc

	meta *imp.Meta
	fref *factoryRef

	state     atomic.Int32
	calls     atomic.Uint64 // 2 per call into the plugin: odd while one runs
	pendingIn atomic.Int64  // bytes of data queued

	// the watchdog's, of the call it last saw running
	wdCalls uint64
	wdSince int64

	// queue, guarded by qmu
	qmu     sync.Mutex
	queue   []*conn.Data
	spare   []*conn.Data
	running bool // a worker goroutine is draining the queue

	// owned by the worker
	impl    imp.Analyzer
	factory imp.Factory
	okType  imp.DataType // the last data type found acceptable
	typeOK  bool

	// results, guarded by emu
	emu    sync.Mutex
	msg    conn.Result // reused for each Send
	out    []outRec    // results queued in the connection, oldest first
	outSum int64       // sum of out's sizes
}

// outRec is a result queued in the connection: its end position in the
// stream and (roughly) its size.
type outRec struct{ end, size int64 }

func newAnalyzer(ss *session, c *conn.Conn, id int64) *analyzer {
	a := &analyzer{ss: ss, c: c, id: id}
	a.ctx, a.cancel = context.WithCancel(ss.ctx)
	a.msg.ID = id
	return a
}

// start has a worker make the analyzer; data queued meanwhile waits.
func (a *analyzer) start() {
	a.qmu.Lock()
	a.running = true
	a.qmu.Unlock()
	a.ss.srv.workers.Add(1)
	go a.run()
}

// enqueue queues d for the analyzer and starts a worker if none runs. It
// reports whether d was queued (false: the analyzer ignores data).
func (a *analyzer) enqueue(d *conn.Data) bool {
	n := int64(len(d.Data))
	a.qmu.Lock()
	if a.state.Load() != stateLive {
		a.qmu.Unlock()
		return false
	}
	a.queue = append(a.queue, d)
	a.pendingIn.Add(n)
	a.ss.pendingIn.Add(n)
	start := !a.running
	a.running = true
	a.qmu.Unlock()
	if start {
		a.ss.srv.workers.Add(1)
		go a.run()
	}
	return true
}

// run is the worker: it makes the plugin's analyzer if that is still to
// do, then gives it the queued data, batch by batch, until the queue is
// empty.
func (a *analyzer) run() {
	defer a.ss.srv.workers.Done()
	if a.impl == nil && a.factory == nil && a.state.Load() == stateLive {
		a.create()
	}
	for {
		a.qmu.Lock()
		batch := a.queue
		if len(batch) == 0 || a.state.Load() != stateLive {
			a.dropQueueLocked()
			a.running = false
			a.qmu.Unlock()
			return
		}
		a.queue, a.spare = a.spare, nil
		a.qmu.Unlock()

		for i, d := range batch {
			if a.state.Load() == stateLive {
				a.data(d)
			}
			a.unqueued(int64(len(d.Data)))
			batch[i] = nil
		}
		a.qmu.Lock()
		a.spare = batch[:0]
		a.qmu.Unlock()
	}
}

// dropQueueLocked forgets the queued data; qmu is held.
func (a *analyzer) dropQueueLocked() {
	for i, d := range a.queue {
		a.unqueued(int64(len(d.Data)))
		a.queue[i] = nil
	}
	a.queue = a.queue[:0]
}

func (a *analyzer) unqueued(n int64) {
	a.pendingIn.Add(-n)
	a.ss.pendingIn.Add(-n)
}

// create calls the factory's NewAnalyzer (after a pending set_interface).
func (a *analyzer) create() {
	defer a.recoverCall()
	a.calls.Add(1)
	f := a.fref.get()
	a.factory = f
	impl, err := f.NewAnalyzer(a.ctx, a.meta, a)
	a.calls.Add(1)
	switch {
	case err != nil:
		a.endWith(stateFailed, conn.NewException(a.id, "new_analyzer: "+err.Error()))
		a.ss.log.Warn("imprpc server: the plugin could not make an analyzer", "topic", topicAnalyzer, "id", a.id, "err", err)
	case impl == nil:
		a.decline()
	default:
		a.impl = impl
		a.ss.log.Debug("imprpc server: analyzer made", "topic", topicAnalyzer, "id", a.id)
	}
}

// decline answers a declined analyzer as Perl's server does: pass both
// directions to the end; later data is ignored.
func (a *analyzer) decline() {
	a.emu.Lock()
	if a.state.Load() == stateLive {
		a.sendLocked(imp.Pass(imp.FromClient, imp.MaxOffset))
		a.sendLocked(imp.Pass(imp.FromServer, imp.MaxOffset))
		a.state.Store(stateDeclined)
	}
	a.emu.Unlock()
	a.afterEnd()
	a.ss.log.Debug("imprpc server: analyzer declined by the plugin", "topic", topicAnalyzer, "id", a.id)
}

// data gives one chunk to the plugin's analyzer.
func (a *analyzer) data(d *conn.Data) {
	if !a.typeOK || d.Type != a.okType {
		if !acceptsData(a.factory, d.Type) {
			a.endWith(stateFailed, conn.NewException(a.id, "data: data type "+d.Type.String()+" is not supported by the plugin"))
			a.ss.log.Warn("imprpc server: data of a type the plugin does not support", "topic", topicClient, "id", a.id, "type", d.Type.String())
			return
		}
		a.okType, a.typeOK = d.Type, true
	}
	defer a.recoverCall()
	a.calls.Add(1)
	a.impl.Data(d.Dir, d.Offset, d.Type, d.Octets())
	a.calls.Add(1)
}

// acceptsData reports whether one of f's interfaces is for data type t.
func acceptsData(f imp.Factory, t imp.DataType) bool {
	for _, i := range f.Interfaces() {
		if i.AcceptsData(t) {
			return true
		}
	}
	return false
}

// recoverCall turns a panic of the plugin into a failed analyzer.
func (a *analyzer) recoverCall() {
	p := recover()
	if p == nil {
		return
	}
	a.calls.Add(1)
	msg := fmt.Sprint(p)
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	a.fail("plugin panicked: "+msg, "imprpc server: plugin panicked: analyzer failed", "panic", p, "stack", string(debug.Stack()))
}

// Emit sends a result of the plugin's analyzer to the client, unless the
// analyzer is done. It is the imp.Sink given to the plugin.
func (a *analyzer) Emit(r imp.Result) {
	if a.state.Load() != stateLive {
		return
	}
	if err := r.Validate(); err != nil {
		a.fail("plugin emitted an invalid result: "+err.Error(), "imprpc server: plugin emitted an invalid result: analyzer failed", "err", err)
		return
	}
	a.emu.Lock()
	if a.state.Load() != stateLive {
		a.emu.Unlock()
		return
	}
	err := a.sendLocked(r)
	a.emu.Unlock()
	if err != nil {
		if !errors.Is(err, conn.ErrClosed) {
			a.fail("server cannot send a result: "+err.Error(), "imprpc server: cannot send a result: analyzer failed", "err", err)
		}
		return
	}
	a.ss.checkSent(a.c)
}

// sendLocked sends a result and notes it for the buffer accounting; emu
// is held.
func (a *analyzer) sendLocked(r imp.Result) error {
	a.msg.Result = r
	end, err := a.c.Send(&a.msg)
	a.msg.Result = imp.Result{}
	if err != nil {
		return err
	}
	a.noteSent(end, resultSize(r))
	return nil
}

// fail ends a live analyzer with fatal(reason) and logs why, at warn
// level, with the attributes attrs.
func (a *analyzer) fail(reason, logMsg string, attrs ...any) {
	if a.endWith(stateFailed, &conn.Result{ID: a.id, Result: imp.Fatal(reason)}) {
		a.ss.log.Warn(logMsg, append([]any{"topic", topicAnalyzer, "id", a.id}, attrs...)...)
	}
}

// endWith ends a live analyzer in state, sending last (if not nil) as its
// last message; it reports whether the analyzer was live.
func (a *analyzer) endWith(state int32, last conn.Message) bool {
	a.emu.Lock()
	if a.state.Load() != stateLive {
		a.emu.Unlock()
		return false
	}
	a.state.Store(state)
	if last != nil {
		if end, err := a.c.Send(last); err == nil {
			a.noteSent(end, 64)
		}
	}
	a.emu.Unlock()
	a.afterEnd()
	return true
}

// end ends the analyzer in state without a message, whatever its state.
func (a *analyzer) end(state int32) {
	a.emu.Lock()
	if a.state.Load() < state {
		a.state.Store(state)
	}
	a.emu.Unlock()
	a.afterEnd()
}

// afterEnd drops the queue and ends the analyzer's context.
func (a *analyzer) afterEnd() {
	a.qmu.Lock()
	a.dropQueueLocked()
	a.qmu.Unlock()
	a.cancel()
}
