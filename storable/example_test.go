package storable_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/storable"
)

func ExampleMarshal() {
	type context struct {
		Addr string `storable:"caddr"`
		Port int    `storable:"cport"`
	}
	data, err := storable.Marshal(context{Addr: "192.0.2.10", Port: 40001})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("% x\n", data)
	// Output: 05 0b 03 00 00 00 02 0a 0a 31 39 32 2e 30 2e 32 2e 31 30 00 00 00 05 63 61 64 64 72 09 00 00 9c 41 00 00 00 05 63 70 6f 72 74
}

func ExampleUnmarshal() {
	// nfreeze({meta => {cport => 40001}}) by Perl.
	data := []byte("\x05\x0b\x03\x00\x00\x00\x01\x04\x03\x00\x00\x00\x01\x09\x00\x00\x9c\x41\x00\x00\x00\x05cport\x00\x00\x00\x04meta")
	var ctx struct {
		Meta struct {
			Port int `storable:"cport"`
		} `storable:"meta"`
	}
	if err := storable.Unmarshal(data, &ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ctx.Meta.Port)
	// Output: 40001
}

func ExampleUnmarshalValue() {
	// nfreeze([1, "a", \"b"]) by Perl.
	data := []byte("\x05\x0b\x02\x00\x00\x00\x03\x08\x81\x0a\x01a\x04\x0a\x01b")
	v, err := storable.UnmarshalValue(data)
	if err != nil {
		log.Fatal(err)
	}
	a := v.(*perl.Array)
	fmt.Println(len(a.Elems), a.Elems[0], string(a.Elems[1].(perl.Bytes)))
	fmt.Println(string(a.Elems[2].(perl.Ref).To.(*perl.Scalar).Value.(perl.Bytes)))
	// Output:
	// 3 1 a
	// b
}

func ExampleEncMode_AppendValue() {
	// The arguments of an IMP data RPC, framed as Net::IMP::Remote does:
	// op (16 bits) and length (32 bits) in the sender's order, then
	// nfreeze(\@args).
	em, err := storable.EncOptions{}.EncMode()
	if err != nil {
		log.Fatal(err)
	}
	args := perl.NewArray(perl.Int(1), perl.Int(0), perl.Int(0), perl.Int(-1), perl.Bytes("hello"))
	buf := make([]byte, 6, 256)
	buf, err = em.AppendValue(buf, args)
	if err != nil {
		log.Fatal(err)
	}
	n := len(buf) - 6
	buf[0], buf[1] = 0x05, 0x40 // op 0x4005, little-endian
	buf[2], buf[3], buf[4], buf[5] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	fmt.Printf("% x\n", buf)
	// Output: 05 40 16 00 00 00 05 0b 02 00 00 00 05 08 81 08 80 08 80 08 7f 0a 05 68 65 6c 6c 6f
}

func ExampleNewDecoder() {
	// Two images in a row, as nstore writes a file or a stream carries them.
	stream := bytes.NewReader([]byte("pst0\x05\x0b\x0a\x03one\x05\x0b\x08\x82"))
	dec := storable.NewDecoder(stream)
	for {
		v, err := dec.DecodeValue()
		if err != nil {
			break // io.EOF at the end
		}
		fmt.Printf("%#v\n", v)
	}
	// Output:
	// perl.Bytes{0x6f, 0x6e, 0x65}
	// 2
}

func ExampleEncOptions_canonical() {
	h := perl.NewHash(2)
	h.Set("b", perl.Int(2))
	h.Set("a", perl.Int(1))
	em, err := storable.EncOptions{Canonical: true}.EncMode()
	if err != nil {
		log.Fatal(err)
	}
	data, err := em.MarshalValue(h)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", data)
	// Output: "\x05\v\x03\x00\x00\x00\x02\b\x81\x00\x00\x00\x01a\b\x82\x00\x00\x00\x01b"
}
