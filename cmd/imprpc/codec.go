package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/sereal"
	"github.com/goimp/imprpc/storable"
)

const taggedJSONNote = `
Values are shown as tagged JSON: undef is null, booleans true/false,
integers and doubles as JSON numbers (a double always with "." or an
exponent), strings as JSON strings (a byte string shows each byte as the
character U+0000..U+00FF), references to arrays and hashes as the array or
hash, other references as {"$ref": X}, blessed values as {"$bless": CLASS,
"$value": X}, regexps as {"$regexp": P, "$flags": F}, and a value reached
again while it is shown as {"$cycle": true}.`

func init() {
	register(&command{
		Name:  "decode",
		Args:  "[--format auto|storable|sereal] [FILE|-]",
		Short: "show a Storable image or Sereal document as tagged JSON",
		Long: `
Decode reads one Perl Storable image (freeze, nfreeze, or a store/nstore
file with the "pst0" magic) or one Sereal document from FILE (standard
input when FILE is "-" or absent) and prints the value on standard output
as one line of tagged JSON. With --format auto (the default) the format is
recognised from the data.
` + taggedJSONNote,
		Flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			format := fs.String("format", "auto", "input `format`: auto, storable or sereal")
			return func(ctx context.Context, e *env, args []string) error {
				data, err := readInput(e, args)
				if err != nil {
					return err
				}
				v, err := decodeImage(data, *format)
				if err != nil {
					return err
				}
				out, err := taggedjson.Marshal(v)
				if err != nil {
					return err
				}
				_, err = e.Stdout.Write(append(out, '\n'))
				return err
			}
		},
	})
	register(&command{
		Name:  "encode",
		Args:  "--format nstorable|storable|sereal [--file] [FILE|-]",
		Short: "write tagged JSON as a Storable image or Sereal document",
		Long: `
Encode reads one value as tagged JSON from FILE (standard input when FILE
is "-" or absent) and writes it to standard output as a Perl Storable image
in network order (--format nstorable, what nfreeze writes), in this
machine's native order (--format storable, what freeze writes), or as a
Sereal document (--format sereal). With --file a Storable image gets the
"pst0" magic of a file written by nstore or store.

Reading tagged JSON: a number with "." or an exponent is a double, any
other number an integer; a string with a character above U+00FF becomes a
UTF-8 string and any other string a byte string, so the UTF-8 flag of a
string holding only Latin-1 characters is not kept. {"$cycle": true}
cannot be encoded.
` + taggedJSONNote,
		Flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			format := fs.String("format", "", "output `format`: nstorable, storable or sereal (required)")
			file := fs.Bool("file", false, "write a Storable file image (\"pst0\" magic), as nstore and store do")
			return func(ctx context.Context, e *env, args []string) error {
				if *format == "" {
					return usagef("--format is required")
				}
				data, err := readInput(e, args)
				if err != nil {
					return err
				}
				v, err := taggedjson.Unmarshal(data)
				if err != nil {
					return err
				}
				out, err := encodeImage(v, *format, *file)
				if err != nil {
					return err
				}
				_, err = e.Stdout.Write(out)
				return err
			}
		},
	})
}

// readInput reads the whole of the one input a command takes: the file
// named in args, or standard input for "-" or no argument.
func readInput(e *env, args []string) ([]byte, error) {
	switch {
	case len(args) > 1:
		return nil, usagef("one input at most, got %d", len(args))
	case len(args) == 0 || args[0] == "-":
		return io.ReadAll(e.Stdin)
	default:
		return os.ReadFile(args[0])
	}
}

// sniffFormat tells a Sereal document from a Storable image by their
// first bytes, or returns "" when data looks like neither.
func sniffFormat(data []byte) string {
	if bytes.HasPrefix(data, []byte("=srl")) || bytes.HasPrefix(data, []byte("=\xf3rl")) || bytes.HasPrefix(data, []byte("=\xc3\xb3rl")) {
		return "sereal"
	}
	if _, err := storable.ParseHeader(data); err == nil {
		return "storable"
	}
	return ""
}

// decodeImage decodes one Storable image or Sereal document in the given
// format (auto, storable, sereal).
func decodeImage(data []byte, format string) (perl.Value, error) {
	if format == "auto" {
		format = sniffFormat(data)
		if format == "" {
			if len(data) == 0 {
				return nil, errors.New("empty input")
			}
			return nil, fmt.Errorf("input is neither a Storable image nor a Sereal document (starts with % x)", data[:min(len(data), 8)])
		}
	}
	switch format {
	case "storable":
		return storable.UnmarshalValue(data)
	case "sereal":
		return sereal.UnmarshalValue(data)
	}
	return nil, usagef("unknown --format %q: want auto, storable or sereal", format)
}

// encodeImage writes v in the given format (nstorable, storable, sereal).
func encodeImage(v perl.Value, format string, file bool) ([]byte, error) {
	var opts storable.EncOptions
	switch format {
	case "nstorable":
		opts.Order = storable.NetworkOrder
	case "storable":
		opts.Order = storable.NativeOrder
	case "sereal":
		if file {
			return nil, usagef("--file applies to Storable formats only")
		}
		return sereal.MarshalValue(v)
	default:
		return nil, usagef("unknown --format %q: want nstorable, storable or sereal", format)
	}
	if file {
		opts.Format = storable.FileImage
	}
	em, err := opts.EncMode()
	if err != nil {
		return nil, err
	}
	return em.MarshalValue(v)
}
