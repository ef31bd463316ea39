package repotest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("Root() = %s, which holds no go.mod: %v", root, err)
	}
	wd, _ := os.Getwd()
	if want := filepath.Dir(filepath.Dir(wd)); root != want {
		t.Errorf("Root() = %s, want %s (two levels above this package)", root, want)
	}
	p, err := Path(Golden + "/imprpc-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("golden vectors: %v", err)
	}
}

func TestNoRoot(t *testing.T) {
	t.Chdir(os.TempDir())
	if root, err := Root(); err == nil {
		t.Errorf("Root() in %s = %s, want an error", os.TempDir(), root)
	}
}
