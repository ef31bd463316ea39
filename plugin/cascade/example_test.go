package cascade_test

import (
	"fmt"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/plugin/cascade"
	"github.com/goimp/imprpc/plugin/pattern"
)

// Two plugins one after another, as imprpc_server.pl runs two -M: the
// second sees what the first made of the data, and the offsets of the
// results are in the data as the client sent it. Like Perl's
// Net::IMP::Cascade, the cascade may give a replacement in pieces: the
// second "dog" becomes "wolf" in three results, at offsets 13 and 15.
func ExampleNew() {
	first, _ := pattern.New(pattern.Config{String: "cat", Action: pattern.Replace, ActData: "dog"})
	second, _ := pattern.New(pattern.Config{String: "dog", Action: pattern.Replace, ActData: "wolf"})
	f, err := cascade.New(first, second)
	if err != nil {
		fmt.Println(err)
		return
	}
	results, _ := imptest.Run(f, nil,
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream, Data: []byte("a cat and a dog")},
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream},
	)
	for _, r := range results {
		fmt.Println(r)
	}
	// Output:
	// pass(0, 2)
	// replace(0, 5, "wolf")
	// pass(0, 11)
	// pass(0, 12)
	// replace(0, 13, "wolf")
	// replace(0, 15, "")
	// replace(0, 15, "")
	// pass(0, -1)
}
