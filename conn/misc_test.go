package conn

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// DecodeShared gives the messages Decode gives, for every golden vector.
func TestDecodeSharedSameAsDecode(t *testing.T) {
	for _, v := range loadVectors(t) {
		for _, f := range formats {
			w := f.opts.MustWire()
			frame := v.Frame(f.name)
			m1, err1 := w.Decode(frame)
			m2, err2 := w.DecodeShared(bytes.Clone(frame))
			if d := diffResults(m1, err1, m2, err2); d != "" {
				t.Errorf("%s/%s: %s", v.Name, f.name, d)
			}
		}
	}
}

func TestDataOctetsAndExceptionText(t *testing.T) {
	tests := []struct {
		d    Data
		want string
	}{
		{Data{Data: []byte("caf\xe9")}, "caf\xe9"},
		{Data{Data: []byte("caf\xc3\xa9"), UTF8: true}, "caf\xe9"},       // downgraded as Perl does
		{Data{Data: []byte("\xe2\x98\xba"), UTF8: true}, "\xe2\x98\xba"}, // wide: UTF-8 encoded
	}
	for _, tt := range tests {
		if got := string(tt.d.Octets()); got != tt.want {
			t.Errorf("Octets(%q, utf8 %v) = %q, want %q", tt.d.Data, tt.d.UTF8, got, tt.want)
		}
	}
	if e := (&Exception{Message: perl.Bytes("caf\xe9")}); e.Text() != "café" {
		t.Errorf("Text() = %q", e.Text())
	}
	if e := NewException(3, "☺ failed"); e.Text() != "☺ failed" || e.Message.Kind() != perl.KindString {
		t.Errorf("NewException: %#v", e)
	}
	j, err := AppendResultJSON(nil, imp.Replace(0, 18, []byte("XXXXXX")))
	if err != nil || string(j) != `["replace",0,18,"XXXXXX"]` {
		t.Errorf("AppendResultJSON: %s %v", j, err)
	}
}

// With a debug logger the connection logs every RPC it sends and gets.
func TestDebugLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(b)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, b := net.Pipe()
	rec := &recorder{got: make(chan struct{}, 1)}
	srv, err := Server(a, &recorder{}, &Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Client(b, rec, &Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv.Send(&Result{ID: 1, Result: imp.Pass(0, 5)})
	<-rec.got
	if cli.Role() != RoleClient || srv.Role() != RoleServer || cli.NetConn() != b {
		t.Error("Role or NetConn")
	}
	cli.Close(nil)
	srv.Close(nil)
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{`msg="imprpc send" role=server rpc="[\"set_version\",1]"`, `msg="imprpc recv" role=client rpc="[\"result\",1,\"pass\",0,5]"`, "imprpc connection closed"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, buf.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// Buffered counts what was read beyond the frames returned.
func TestReaderBuffered(t *testing.T) {
	w := Options{}.MustWire()
	stream := frames(t, w, &DeleteAnalyzer{ID: 1}, &DeleteAnalyzer{ID: 2})
	r := w.NewReader(bytes.NewReader(stream))
	if _, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if r.Buffered() != len(stream)/2 || r.Offset() != int64(len(stream)/2) {
		t.Errorf("Buffered %d, Offset %d, stream %d", r.Buffered(), r.Offset(), len(stream))
	}
}
