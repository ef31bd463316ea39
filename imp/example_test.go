package imp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
)

// The limit plugin of docs/plugins.md, named on a command line, asked for
// its interface and run on the data of one connection.
func Example_plugin() {
	factories, err := imp.Open("limit=max=10&dir=0")
	if err != nil {
		fmt.Println(err)
		return
	}
	f := factories[0]
	offer := imp.Interface{DataType: imp.DataStream,
		Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny, imp.ResultFatal}}
	fmt.Println(imp.GetInterface(context.Background(), f, []imp.Interface{offer}))

	results, err := imptest.Run(f, &imp.Meta{ServerPort: 80},
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream, Data: []byte("GET / HTTP")},
		imptest.Chunk{Dir: imp.FromClient, Type: imp.DataStream, Data: []byte("/1.0\r\n\r\n")},
	)
	if err != nil {
		fmt.Println(err)
	}
	for _, r := range results {
		fmt.Println(r)
	}
	// Output:
	// [[imp.data.stream, [pass, deny, fatal]]] <nil>
	// pass(1, -1)
	// pass(0, 10)
	// deny(0, "more than 10 bytes", "limit", 10)
}

// Open checks every plugin of a command line and lists every problem.
func ExampleOpen() {
	_, err := imp.Open("Example::IMP::Limit=max=x&dir=2&color=red", "nosuch", "limit=max=5")
	fmt.Println(err)
	// Output:
	// imp: plugin Example::IMP::Limit: max must be a positive integer, not "x"
	// imp: plugin Example::IMP::Limit: dir must be 0 or 1, not "2"
	// imp: plugin Example::IMP::Limit: config: unexpected config keys color
	// imp: plugin nosuch: unknown plugin (known: limit)
}

// A declined analyzer: the connection needs no inspection.
func ExampleFactory_decline() {
	factories, _ := imp.Open("limit=max=10&skip=443")
	_, err := imptest.Run(factories[0], &imp.Meta{ServerPort: 443})
	fmt.Println(errors.Is(err, imptest.ErrDeclined))
	// Output: true
}

func ExampleNewFactory() {
	// A factory whose analyzers pass everything at once.
	f := imp.NewFactory(
		[]imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass}}},
		func(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
			out.Emit(imp.Pass(imp.FromClient, imp.MaxOffset))
			out.Emit(imp.Pass(imp.FromServer, imp.MaxOffset))
			return imp.AnalyzerFunc(func(imp.Dir, int64, imp.DataType, []byte) {}), nil
		})
	results, _ := imptest.Run(f, nil)
	fmt.Println(results)
	// Output: [pass(0, -1) pass(1, -1)]
}

func ExampleMatchInterfaces() {
	pattern := []imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny}}}
	offered := []imp.Interface{
		{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny}}, // no fatal
		{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny, imp.ResultFatal, imp.ResultPause}},
		{DataType: imp.DataPacket}, // any result type
	}
	fmt.Println(imp.MatchInterfaces(pattern, offered))
	fmt.Println(imp.MatchInterfaces(pattern, nil))
	// Output:
	// [[imp.data.stream, [pass, deny, fatal, pause]] [imp.data.packet]]
	// [[undef, [pass, deny]]]
}

func ExampleSetInterface() {
	f := imp.NewFactory(
		[]imp.Interface{{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultPause, imp.ResultContinue}}},
		func(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
			out.Emit(imp.Pause(imp.FromClient))
			out.Emit(imp.Continue(imp.FromClient))
			out.Emit(imp.Pass(imp.FromClient, imp.MaxOffset))
			return imp.AnalyzerFunc(func(imp.Dir, int64, imp.DataType, []byte) {}), nil
		})
	// The data provider handles pause but not continue.
	ctx := context.Background()
	g, err := imp.SetInterface(ctx, f, imp.Interface{DataType: imp.DataStream,
		Results: []imp.ResultType{imp.ResultPass, imp.ResultFatal, imp.ResultPause}})
	fmt.Println(err)
	results, _ := imptest.Run(g, nil)
	fmt.Println(results)

	_, err = imp.SetInterface(ctx, f, imp.Interface{DataType: imp.DataPacket})
	fmt.Println(err)
	// Output:
	// <nil>
	// [pause(0) pass(0, -1)]
	// imp: set_interface: unsupported interface
}

func ExampleParseConfig() {
	cfg, err := imp.ParseConfig("rx=secret%7Cpassword&rxlen=8&action=deny&actdata=found+it&flag")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range cfg {
		fmt.Printf("%s=%q (no value: %v)\n", s.Key, s.Value, s.NoValue)
	}
	fmt.Println(cfg)
	// Output:
	// rx="secret|password" (no value: false)
	// rxlen="8" (no value: false)
	// action="deny" (no value: false)
	// actdata="found+it" (no value: false)
	// flag="" (no value: true)
	// actdata=found+it&action=deny&flag&rx=secret|password&rxlen=8
}

func ExampleParseSpec() {
	s, _ := imp.ParseSpec("Net::IMP::Pattern=string=secret&action=deny&actdata=no")
	fmt.Println(s.Name, s.Config.Keys())
	_, err := imp.ParseSpec("9lives")
	fmt.Println(err)
	// Output:
	// Net::IMP::Pattern [string action actdata]
	// imp: invalid plugin spec "9lives": want NAME[=CONFIG], NAME a letter followed by letters, digits, _ and :
}

// Net::IMP::HTTP's data types, defined as its IMP_DATA calls define them
// (80 is getservbyname('http')).
func ExampleDefineDataTypes() {
	http, err := imp.DefineDataTypes("http", 80<<16,
		imp.DataTypeDef{Name: "header", Offset: +1}, imp.DataTypeDef{Name: "body", Offset: -2},
		imp.DataTypeDef{Name: "chkhdr", Offset: +3}, imp.DataTypeDef{Name: "chktrailer", Offset: +4},
		imp.DataTypeDef{Name: "data", Offset: -5}, imp.DataTypeDef{Name: "junk", Offset: -6})
	if err != nil {
		fmt.Println(err)
		return
	}
	// 'httprq[http+10]'
	_, err = imp.DefineDataTypes("httprq", int64(http[0])+10,
		imp.DataTypeDef{Name: "header", Offset: +1}, imp.DataTypeDef{Name: "content", Offset: -2},
		imp.DataTypeDef{Name: "data", Offset: -3})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range []int64{5242880, 5242881, -5242882, -5242892, -5242899} {
		fmt.Println(n, imp.DataType(n))
	}
	t, _ := imp.ParseDataType("httprq.content")
	fmt.Println(int64(t), t.IsStream())
	// Output:
	// 5242880 imp.data.http
	// 5242881 imp.data.http.header
	// -5242882 imp.data.http.body
	// -5242892 imp.data.httprq.content
	// -5242899 -5242899
	// -5242892 true
}

func ExampleResult() {
	r := imp.Log(imp.FromServer, 160, 10, imp.LogInfo, "hi!", perl.Bytes("key1"), perl.Bytes("value1"))
	fmt.Println(r)
	level, _ := r.Level()
	msg, _ := r.Message()
	fmt.Println(level, msg, len(r.Extra()))

	// As the Storable wire delivers a large offset: a decimal string.
	p := imp.Result{Type: imp.ResultPass, Args: []perl.Value{perl.Int(1), perl.Bytes("4294967296")}}
	off, _ := p.Offset()
	fmt.Println(p, off, p.Validate())
	// Output:
	// log(1, 160, 10, info, "hi!", "key1", "value1")
	// info hi! 2
	// pass(1, "4294967296") 4294967296 <nil>
}

func ExampleResult_Validate() {
	for _, r := range []imp.Result{
		imp.Pass(imp.FromClient, 100),
		{Type: imp.ResultPass, Args: []perl.Value{perl.Int(2), perl.Int(100)}},
		imp.Deny(imp.FromClient, "why", perl.Bytes("key-without-value")),
		{Type: 0x9999},
	} {
		fmt.Println(r.Validate())
	}
	// Output:
	// <nil>
	// imp: result pass: arg 0 (dir): direction 2 is not 0 or 1
	// imp: result deny: 1 extra args, want key/value pairs
	// imp: result 39321: unknown result type
}

func ExampleParseContext() {
	meta := perl.NewHash(4)
	meta.Set("caddr", perl.Bytes("192.0.2.10"))
	meta.Set("cport", perl.Int(40001))
	meta.Set("lport", perl.Bytes("3000")) // imp-relay.pl sends this one as a string
	meta.Set("app", perl.Bytes("imp_proxy"))
	ctx := perl.NewHash(1)
	ctx.Set("meta", perl.HashRef(meta))

	m, err := imp.ParseContext(perl.HashRef(ctx))
	fmt.Println(m.App, m.ClientAddr, m.ClientPort, m.ListenPort, err)

	ctx.Set("cb", perl.Bytes("x"))
	_, err = imp.ParseContext(perl.HashRef(ctx))
	fmt.Println(err)
	// Output:
	// imp_proxy 192.0.2.10 40001 3000 <nil>
	// imp: new_analyzer context: unknown key "cb" (only "meta" is allowed)
}

// TestPluginGuideQuotesExample checks that docs/plugins.md quotes the
// plugin of example_plugin_test.go as it is.
func TestPluginGuideQuotesExample(t *testing.T) {
	code, err := os.ReadFile("example_plugin_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(code), "// plugin:begin\n")
	body, _, ok2 := strings.Cut(body, "// plugin:end")
	if !ok || !ok2 {
		t.Fatal("markers not found in example_plugin_test.go")
	}
	doc, err := os.ReadFile("../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```go\n"+strings.TrimSpace(body)+"\n```") {
		t.Error("docs/plugins.md does not quote the plugin of example_plugin_test.go (between the plugin: markers) as it is")
	}
}
