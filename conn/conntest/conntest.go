// Package conntest gives tests the golden IMP RPC vectors that the real
// Perl modules wrote (perl-fixtures/golden in the repository): single
// RPCs on both wires, and byte streams with their frame boundaries, as
// typed Go values. Wire formats are named by strings ("storable",
// "sereal"), so that package conn's own tests can use it too.
package conntest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goimp/imprpc/internal/repotest"
)

// GoldenDir is the directory of the golden vectors, relative to the
// repository root.
const GoldenDir = repotest.Golden

// Vector is one RPC of imprpc-vectors.json.
type Vector struct {
	// Name is unique, e.g. "result_pass_maxoffset_dir1".
	Name string `json:"name"`
	// Side is who sends it: "client", "server" or "both".
	Side string `json:"side"`
	// Opcode is the op's number.
	Opcode int `json:"opcode"`
	// Args are the arguments after the op, in tagged JSON, as Perl
	// handed them to the encoder.
	Args json.RawMessage `json:"args"`
	// StorableHex and SerealHex are the frames.
	StorableHex string `json:"storable_hex"`
	SerealHex   string `json:"sereal_hex"`
	// Deterministic is false where the bytes depend on Perl's hash order.
	Deterministic bool `json:"deterministic"`
	// StorableDecoded and SerealDecoded are what a Perl decoder gets
	// back where the wire does not carry Args exactly (else empty).
	StorableDecoded json.RawMessage `json:"storable_decoded"`
	SerealDecoded   json.RawMessage `json:"sereal_decoded"`
	// StorableSortedHex and SerealSortedHex are the frames with hash keys
	// in Perl string order, for the non-deterministic vectors.
	StorableSortedHex string `json:"storable_sorted_hex"`
	SerealSortedHex   string `json:"sereal_sorted_hex"`
	// UpstreamDecode says, per wire, what Net::IMP::Remote's own decoder
	// (buf2rpc) made of the frame: "ok: ..." or "fails: ...".
	UpstreamDecode map[string]string `json:"upstream_decode"`
	// Notes say what the vector shows.
	Notes string `json:"notes"`
}

// The wire formats, as the files name them.
const (
	Storable = "storable"
	Sereal   = "sereal"
)

// Frame returns the vector's frame on wire f (Storable or Sereal).
func (v *Vector) Frame(f string) []byte { return mustHex(v.pick(f, v.StorableHex, v.SerealHex)) }

// SortedFrame returns the frame with sorted hash keys on wire f, or nil.
func (v *Vector) SortedFrame(f string) []byte {
	return mustHex(v.pick(f, v.StorableSortedHex, v.SerealSortedHex))
}

// WireArgs returns the arguments as a Perl decoder gets them from wire f
// (tagged JSON): the *_decoded field when there is one, else Args.
func (v *Vector) WireArgs(f string) json.RawMessage {
	d := v.StorableDecoded
	if f == Sereal {
		d = v.SerealDecoded
	}
	if len(d) > 0 {
		return d
	}
	return v.Args
}

func (v *Vector) pick(f, storable, sereal string) string {
	if f == Sereal {
		return sereal
	}
	return storable
}

func mustHex(s string) []byte {
	if s == "" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("conntest: bad hex in the golden vectors: %v", err))
	}
	return b
}

// Stream is one byte stream of imprpc-streams.json.
type Stream struct {
	// Name is unique, e.g. "storable_captured_server_to_client".
	Name string `json:"name"`
	// Wire is "storable" or "sereal".
	Wire string `json:"wire"`
	// Direction is "client->server" or "server->client".
	Direction string `json:"direction"`
	// Source is "rpc2buf" (frames concatenated) or "captured" (recorded
	// between the real Perl client and server).
	Source string `json:"source"`
	// Description says what the stream holds.
	Description string `json:"description"`
	// Length is the number of bytes.
	Length int `json:"length"`
	// Hex is the bytes as the peer wrote them.
	Hex string `json:"hex"`
	// Frames are the frames in the stream, in order.
	Frames []StreamFrame `json:"frames"`
}

// StreamFrame is one frame of a Stream.
type StreamFrame struct {
	// Offset and Length place the frame in the stream.
	Offset int `json:"offset"`
	Length int `json:"length"`
	// Opcode is the frame's op.
	Opcode int `json:"opcode"`
	// Args are its arguments as decoded from the bytes (tagged JSON).
	Args json.RawMessage `json:"args"`
}

// Bytes returns the stream's bytes.
func (s Stream) Bytes() []byte { return mustHex(s.Hex) }

// Dir returns the directory of the golden vectors in the repository that
// holds the working directory (found by walking up to go.mod).
func Dir() (string, error) { return repotest.Path(GoldenDir) }

// Vectors loads imprpc-vectors.json from the golden directory.
func Vectors() ([]Vector, error) {
	var f struct {
		Vectors []Vector `json:"vectors"`
	}
	if err := load("imprpc-vectors.json", &f); err != nil {
		return nil, err
	}
	return f.Vectors, nil
}

// Streams loads imprpc-streams.json from the golden directory.
func Streams() ([]Stream, error) {
	var f struct {
		Streams []Stream `json:"streams"`
	}
	if err := load("imprpc-streams.json", &f); err != nil {
		return nil, err
	}
	return f.Streams, nil
}

func load(name string, v any) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("conntest: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("conntest: %s: %w", name, err)
	}
	return nil
}
