package pattern_test

import (
	"fmt"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/plugin/pattern"
)

// A plugin that replaces "secret" with "******", fed a stream in two
// chunks that split the word.
func ExampleNew() {
	f, err := pattern.New(pattern.Config{String: "secret", Action: pattern.Replace, ActData: "******"})
	if err != nil {
		fmt.Println(err)
		return
	}
	results, _ := imptest.Run(f, nil,
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream, Data: []byte("my sec")},
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream, Data: []byte("ret is out")},
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream}, // end of data
	)
	for _, r := range results {
		fmt.Println(r)
	}
	// Output:
	// pass(0, 1)
	// pass(0, 3)
	// replace(0, 9, "******")
	// pass(0, 11)
	// pass(0, -1)
}

// The configuration as imprpc_server.pl takes it, with every problem
// reported at once.
func ExampleParseConfig() {
	cfg, _ := imp.ParseConfig("rx=(?=x)a&rxlen=3&action=drop")
	_, err := pattern.ParseConfig(cfg)
	fmt.Println(err)
	// Output:
	// pattern: action drop needs actdata
	// pattern: rx "(?=x)a": offset 0: lookaround assertions are not supported: Go's regexp has none
	// pattern: action can only be deny|reject|replace
}
