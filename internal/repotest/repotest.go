// Package repotest finds the repository a test runs in, for tests that
// read the repository's test data (the golden vectors in
// perl-fixtures/golden, the Perl fixtures).
package repotest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Golden is the directory of the golden vectors, relative to the
// repository root: copies of what the real Perl modules wrote, with their
// provenance in its README.
const Golden = "perl-fixtures/golden"

// Root returns the directory that holds go.mod, found by walking up from
// the working directory (a test runs in its package's directory).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repotest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repotest: no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

// Path returns the path of name, a slash-separated path relative to the
// repository root.
func Path(name string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, filepath.FromSlash(name)), nil
}
