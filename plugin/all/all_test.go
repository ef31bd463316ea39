package all

import (
	"testing"

	"github.com/goimp/imprpc/imp"
)

func TestRegistered(t *testing.T) {
	for _, name := range []string{"pattern", "Net::IMP::Pattern", "cascade", "Net::IMP::Cascade"} {
		if _, ok := imp.Lookup(name); !ok {
			t.Errorf("%s is not registered", name)
		}
	}
	if _, ok := imp.Lookup("testing:decline"); ok {
		t.Error("the test plugins are registered by plugin/all")
	}
}
