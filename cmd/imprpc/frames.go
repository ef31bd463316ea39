package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/goimp/imprpc/conn"
)

func init() {
	register(&command{
		Name:  "frames",
		Args:  "[-I storable|sereal] [--encode] [FILE|-]",
		Short: "show the RPCs of an IMP RPC byte stream as JSON lines, or write them",
		Long: `
Frames reads a byte stream of IMP RPC frames (a capture of one direction of
a Net::IMP::Remote connection) from FILE, or standard input, and prints each
RPC as one JSON line: an array of the op name and the op's arguments in the
order of the protocol, e.g.

  ["set_version",1]
  ["get_interface",["imp.data.stream",["pass","deny","fatal"]]]
  ["new_analyzer",1,{"meta":{"caddr":"192.0.2.10","cport":40001}}]
  ["data",1234,0,0,"imp.data.stream","hello"]
  ["result",1234,"pass",0,12]
  ["result",7,"log",0,0,6,"info","msg"]

Op names, data types, result types and log levels are the names of Perl's
dualvars, or integers where Perl has none (an unknown op is shown as its
integer and reading goes on). Analyzer ids, directions, offsets and lengths
are JSON numbers, also where the Storable wire carried them as decimal
strings; an undef offset is null. An interface is shown as the wire holds
it: ["imp.data.stream"] for a missing result list in get_interface and
interface, ["imp.data.stream",[]] in set_interface. Every other value is
tagged JSON: byte strings show each byte as the character U+0000..U+00FF,
{"$regexp": ...} is a qr//, {"$ref": ...} a reference to a scalar.

The Storable wire's frame headers may be little- or big-endian: the byte
order is recognised from the first frame. A stream that ends inside a frame
or holds bytes that are no frame: the frames before it are printed, then one
error line on standard error, and the exit status is 1.

With --encode, frames reads such JSON lines (one RPC per line) and writes
the frames to standard output. Tagged JSON does not show whether a string of
characters up to U+00FF was a character (UTF-8) string in Perl: such strings
are written as byte strings. The Sereal wire writes protocol 3 unless
--sereal-protocol says otherwise (5 is what Perl's Sereal::Encoder 5.x
writes).`,
		Flags: framesFlags,
	})
}

func framesFlags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	impl := fs.String("I", "storable", "the wire: storable or sereal (any case, as Net::IMP::Remote's impl)")
	alias(fs, "I", "impl")
	encode := fs.Bool("encode", false, "read JSON lines and write the frames")
	maxFrame := fs.Int("max-frame-size", conn.DefaultMaxFrameSize, "the largest frame read or written, in bytes")
	bigEndian := fs.Bool("big-endian", false, "with --encode on the Storable wire: write big-endian frame headers")
	sortKeys := fs.Bool("sort-keys", false, "with --encode: write hash keys in Perl's string order")
	protocol := fs.Int("sereal-protocol", 0, "with --encode on the Sereal wire: the Sereal protocol version, 1 to 5 (default 3)")
	return func(ctx context.Context, e *env, args []string) error {
		f, err := conn.ParseFormat(*impl)
		if err != nil {
			return usagef("-I: %v", err)
		}
		if len(args) > 1 {
			return usagef("one FILE at most")
		}
		w, err := conn.Options{Format: f, MaxFrameSize: *maxFrame, BigEndian: *bigEndian, SortKeys: *sortKeys, SerealProtocol: *protocol}.Wire()
		if err != nil {
			return usagef("%v", err)
		}
		in, closeIn, err := openInput(e, args)
		if err != nil {
			return err
		}
		defer closeIn()
		out := bufio.NewWriterSize(e.Stdout, 64<<10)
		if *encode {
			err = encodeFrames(ctx, w, in, out)
		} else {
			err = printFrames(ctx, w, in, out)
		}
		if ferr := out.Flush(); err == nil {
			err = ferr
		}
		return err
	}
}

// openInput opens FILE, or standard input for none or "-".
func openInput(e *env, args []string) (io.Reader, func(), error) {
	if len(args) == 0 || args[0] == "-" {
		return e.Stdin, func() {}, nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// printFrames prints every RPC of the stream as a JSON line.
func printFrames(ctx context.Context, w conn.Wire, in io.Reader, out *bufio.Writer) error {
	r := w.NewReader(bufio.NewReaderSize(in, 64<<10))
	var line []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := r.ReadMessage()
		var ue *conn.UnknownOpError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &ue):
			m = ue.Message()
		case err != nil:
			return err
		}
		if line, err = conn.AppendJSON(line[:0], m); err != nil {
			return fmt.Errorf("frame at offset %d: %w", r.Offset(), err)
		}
		line = append(line, '\n')
		if _, err := out.Write(line); err != nil {
			return err
		}
	}
}

// encodeFrames writes the frame of every JSON line.
func encodeFrames(ctx context.Context, w conn.Wire, in io.Reader, out *bufio.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	var frame []byte
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return rerr
		}
		if len(bytes.TrimSpace(line)) > 0 {
			m, err := conn.ParseJSON(line)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			if frame, err = w.Append(frame[:0], m); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			if _, err := out.Write(frame); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
	}
}
