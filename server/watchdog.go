package server

import (
	"fmt"
	"time"
)

// epoch is the origin of the monotonic times the analyzers record.
var epoch = time.Now()

// now returns the monotonic time since epoch, never 0.
func now() int64 { return int64(time.Since(epoch)) + 1 }

// startWatchdog starts, once, the goroutine that fails analyzers whose
// plugin call takes longer than CallTimeout and closes connections idle
// for IdleTimeout. Without either limit there is none.
func (s *Server) startWatchdog() {
	s.watchOnce.Do(func() {
		call, idle := s.callTimeout(), s.IdleTimeout
		if call <= 0 && idle <= 0 {
			return
		}
		every := time.Second
		for _, d := range []time.Duration{call, idle} {
			if d > 0 {
				every = min(every, d/4)
			}
		}
		every = max(every, 5*time.Millisecond)
		s.mu.Lock()
		s.watchDone = make(chan struct{})
		s.mu.Unlock()
		go s.watch(every, call, idle)
	})
}

// waitWatchdog waits for the watchdog to end (after quit is closed).
func (s *Server) waitWatchdog() {
	s.mu.Lock()
	done := s.watchDone
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (s *Server) watch(every, call, idle time.Duration) {
	defer close(s.watchDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		for _, ss := range s.snapshot() {
			if call > 0 {
				ss.checkCalls(call)
			}
			if idle > 0 {
				ss.checkIdle(idle)
			}
		}
	}
}

// checkCalls fails the analyzers whose plugin call has run for longer
// than limit. The analyzers count their calls (odd while one runs), so
// that their hot path reads no clock: a call seen running at two checks
// with the same count is the same call, running since it was first seen.
func (ss *session) checkCalls(limit time.Duration) {
	t := now()
	for _, a := range ss.reg.All() {
		n := a.calls.Load()
		switch {
		case n%2 == 0:
			a.wdCalls = n
		case n != a.wdCalls:
			a.wdCalls, a.wdSince = n, t
		case time.Duration(t-a.wdSince) > limit:
			a.fail(fmt.Sprintf("plugin call did not return within %v", limit), "imprpc server: plugin call timed out: analyzer failed", "timeout", limit)
		}
	}
}

// checkIdle closes the connection when it has had no analyzers and no
// messages for limit.
func (ss *session) checkIdle(limit time.Duration) {
	reads := ss.reads.Load()
	t := now()
	if reads != ss.idleReads || ss.reg.Len() > 0 {
		ss.idleReads, ss.idleSince = reads, t
		return
	}
	if time.Duration(t-ss.idleSince) >= limit {
		ss.log.Info("imprpc server: closing an idle connection", "topic", topicConn, "idle", limit)
		ss.close(fmt.Errorf("server: idle for %v", limit))
	}
}
