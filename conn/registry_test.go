package conn

import (
	"sync"
	"testing"
)

// Ids are allocated as Perl's Net::IMP::Remote::Connection allocates them:
// from 1, skipping ids in use, wrapping after 0x7fffffff.
func TestRegistryAllocation(t *testing.T) {
	var r Registry[string]
	for want := int64(1); want <= 3; want++ {
		if id, err := r.Add("a"); err != nil || id != want {
			t.Fatalf("Add = %d, %v; want %d", id, err, want)
		}
	}
	if r.AddID(5, "peer's choice") != true || r.AddID(5, "again") != false {
		t.Fatal("AddID of a free and a used id")
	}
	if id, _ := r.Add("b"); id != 4 {
		t.Errorf("next id %d, want 4", id)
	}
	if id, _ := r.Add("c"); id != 6 {
		t.Errorf("id after the one in use: %d, want 6", id)
	}
	r.Delete(2)
	if v, ok := r.Get(2); ok {
		t.Errorf("deleted id still there: %q", v)
	}
	// Near the end of the range.
	r.next = MaxAnalyzerID
	if id, _ := r.Add("last"); id != MaxAnalyzerID {
		t.Errorf("id %d, want %d", id, MaxAnalyzerID)
	}
	if id, _ := r.Add("wrapped"); id != 2 {
		t.Errorf("after wrapping: %d, want 2 (1 is in use)", id)
	}
	if r.Len() != 7 {
		t.Errorf("Len %d", r.Len())
	}
	all := r.Reset()
	if len(all) != 7 || r.Len() != 0 {
		t.Errorf("Reset gave %d, left %d", len(all), r.Len())
	}
	if id, _ := r.Add("new connection"); id != 1 {
		t.Errorf("after Reset: %d, want 1", id)
	}
}

// Many goroutines allocate distinct ids.
func TestRegistryConcurrent(t *testing.T) {
	var r Registry[int]
	var wg sync.WaitGroup
	ids := make(chan int64, 8000)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				id, err := r.Add(i)
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d given twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 8000 || r.Len() != 8000 || len(r.All()) != 8000 {
		t.Errorf("%d ids, Len %d", len(seen), r.Len())
	}
}
