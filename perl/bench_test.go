package perl

import (
	"testing"
)

// The arguments of an IMP data RPC with a 1 KiB payload, as a Go program
// hands them to a codec.
func dataArgs() []any {
	return []any{1, 0, 0, -1, make([]byte, 1024)}
}

type dataRPC struct {
	ID     int    `storable:"id"`
	Dir    int    `storable:"dir"`
	Offset uint64 `storable:"offset"`
	Type   int    `storable:"type"`
	Data   []byte `storable:"data"`
}

func BenchmarkFromGoArgs(b *testing.B) {
	args := dataArgs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromGo(args, GoOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromGoStruct(b *testing.B) {
	rpc := &dataRPC{ID: 1, Offset: 1 << 40, Type: -1, Data: make([]byte, 1024)}
	opts := GoOptions{TagKey: "storable"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromGo(rpc, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToGoStruct(b *testing.B) {
	opts := GoOptions{TagKey: "storable"}
	v, err := FromGo(&dataRPC{ID: 1, Offset: 1 << 40, Type: -1, Data: make([]byte, 1024)}, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var rpc dataRPC
		if err := ToGo(v, &rpc, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToGoAny(b *testing.B) {
	v, err := FromGo(dataArgs(), GoOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var x any
		if err := ToGo(v, &x, GoOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
