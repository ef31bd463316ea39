package conn

import (
	"errors"
	"sync"
)

// MaxAnalyzerID is the highest analyzer id Perl's Net::IMP::Remote
// allocates (0x7fffffff); after it, allocation wraps to 1.
const MaxAnalyzerID = 0x7fffffff

// ErrRegistryFull is returned by Registry.Add when every id from 1 to
// MaxAnalyzerID is in use.
var ErrRegistryFull = errors.New("conn: every analyzer id is in use")

// Registry holds the analyzers of one connection by id, and allocates ids
// as Perl's Net::IMP::Remote::Connection does: counting from 1, wrapping
// after MaxAnalyzerID, and skipping ids in use. A server or client keeps
// one per Conn, holding its own analyzer type T (a client allocates ids
// with Add; a server registers the ids the client chose with AddID). It is
// safe for concurrent use; the zero value is an empty registry.
type Registry[T any] struct {
	mu   sync.Mutex
	m    map[int64]T
	next int64 // the next id to try; 0 means 1
}

// Add registers v under a newly allocated id and returns it.
func (r *Registry[T]) Add(v T) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) >= MaxAnalyzerID {
		return 0, ErrRegistryFull
	}
	for {
		id := r.next
		if id < 1 || id > MaxAnalyzerID {
			id = 1
		}
		r.next = id + 1
		if _, used := r.m[id]; !used {
			r.put(id, v)
			return id, nil
		}
	}
}

// AddID registers v under id, as the peer chose it; false if id is in use.
func (r *Registry[T]) AddID(id int64, v T) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, used := r.m[id]; used {
		return false
	}
	r.put(id, v)
	return true
}

func (r *Registry[T]) put(id int64, v T) {
	if r.m == nil {
		r.m = make(map[int64]T)
	}
	r.m[id] = v
}

// Get returns the analyzer of id.
func (r *Registry[T]) Get(id int64) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[id]
	return v, ok
}

// Delete removes id and returns what it held.
func (r *Registry[T]) Delete(id int64) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[id]
	delete(r.m, id)
	return v, ok
}

// Len returns the number of analyzers.
func (r *Registry[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// All returns the ids and analyzers registered at the time of the call
// (a snapshot, in no particular order).
func (r *Registry[T]) All() map[int64]T {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := make(map[int64]T, len(r.m))
	for id, v := range r.m {
		all[id] = v
	}
	return all
}

// Reset removes every analyzer and returns them; allocation starts again
// at 1, as Perl's does on a new connection.
func (r *Registry[T]) Reset() map[int64]T {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.m
	r.m, r.next = nil, 0
	return old
}
