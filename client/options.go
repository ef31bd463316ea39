package client

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// Defaults of Options.
const (
	// DefaultDialTimeout is how long one connection attempt may take,
	// the Timeout Net::IMP::Remote gives its sockets.
	DefaultDialTimeout = 10 * time.Second
	// DefaultMinBackoff is the wait after the first failed connection
	// attempt before the next one.
	DefaultMinBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff is the longest wait between connection attempts.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxQueued is the number of bytes waiting to be written to
	// the server beyond which Analyzer.Data waits.
	DefaultMaxQueued = 1 << 20
	// DefaultResultBuffer is the number of results of one analyzer not
	// yet received from Analyzer.Results beyond which Analyzer.Data
	// waits.
	DefaultResultBuffer = 256
	// DefaultMaxPendingResults is the number of results of one analyzer
	// not yet received beyond which the analyzer is ended with an
	// *OverflowError.
	DefaultMaxPendingResults = 1 << 16
)

// resultChanCap is the capacity of an analyzer's results channel; the
// results beyond it wait in the analyzer's queue, which counts towards
// the same limits.
const resultChanCap = 16

// FailMode is what new analyzers get when the IMP server cannot be
// reached: Net::IMP::Remote's fail option.
type FailMode uint8

const (
	// FailHard gives each new analyzer the one result
	// fatal("connect to IMP server failed (<strerror>)"): the data
	// provider blocks the connection. It is Perl's default.
	FailHard FailMode = iota
	// FailSoft gives each new analyzer
	// log(0, 0, 0, error, "connect to IMP server failed (<strerror>): pass all"),
	// pass(0, -1) and pass(1, -1): the data passes uninspected.
	FailSoft
)

// String returns "hard" or "soft".
func (m FailMode) String() string {
	if m == FailSoft {
		return "soft"
	}
	return "hard"
}

// ParseFailMode reads "hard" or "soft" (in any case), Net::IMP::Remote's
// values of fail.
func ParseFailMode(s string) (FailMode, error) {
	switch strings.ToLower(s) {
	case "hard":
		return FailHard, nil
	case "soft":
		return FailSoft, nil
	}
	return 0, &OptionError{Option: "Fail", Msg: fmt.Sprintf("%q is neither hard nor soft", s)}
}

// WhenFull says what Analyzer.Data does when a limit of the
// connection's send queue (Options.MaxQueued) or of the analyzer's
// undelivered results (Options.ResultBuffer) is reached.
type WhenFull uint8

const (
	// WhenFullWait makes Data wait until there is room again, the
	// analyzer ends, or its context is done.
	WhenFullWait WhenFull = iota
	// WhenFullFail makes Data return ErrFull at once; nothing is sent.
	WhenFullFail
)

// Reconnect is the policy for connecting again after the connection to
// the server broke or could not be made. The next GetInterface,
// SetInterface or NewAnalyzer connects again (there is no connection
// attempt in the background), but not before a backoff after a failed
// attempt has passed: calls during it fail at once as the failed
// attempt did, instead of each waiting up to DialTimeout as Perl's do.
// The backoff starts at MinBackoff and doubles with each failed attempt
// up to MaxBackoff; a successful connection resets it.
type Reconnect struct {
	// MinBackoff is the first backoff; 0 means DefaultMinBackoff, a
	// negative value none (every call tries to connect).
	MinBackoff time.Duration
	// MaxBackoff is the longest backoff; 0 means DefaultMaxBackoff.
	MaxBackoff time.Duration
}

// Dialer makes network connections; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Options configure a Factory. The zero value is Net::IMP::Remote's
// default (Storable wire, fail hard, 10 s to connect) with the limits
// below; every field is optional.
type Options struct {
	// Wire is the wire format, Net::IMP::Remote's impl: conn.Storable
	// (the zero value) or conn.Sereal. The server must use the same. On
	// the Sereal wire an integer that ends an RPC goes out as its
	// decimal string (conn.Options.SerealStringTail), which Perl reads
	// as the same number.
	Wire conn.Format
	// SerealProtocol is the Sereal protocol version written on the
	// Sereal wire, 1 to 5; 0 means 3, which every Sereal::Decoder from
	// 3.0 on reads (see conn.Options).
	SerealProtocol int
	// MaxFrameSize limits the size of a frame read or written; 0 means
	// conn.DefaultMaxFrameSize. A larger frame from the server ends the
	// connection; Data with more data fails.
	MaxFrameSize int

	// Fail is what new analyzers get when the server cannot be
	// reached.
	Fail FailMode
	// DialTimeout limits one connection attempt; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Reconnect is the reconnection policy.
	Reconnect Reconnect
	// AllowUnreachable makes Dial return a Factory even when the server
	// cannot be reached, as Perl's new_factory does: the factory then
	// behaves as after a lost connection (GetInterface fails with the
	// *DialError, new analyzers get the results of Fail) and connects
	// on a later call. Without it, Dial returns the *DialError.
	AllowUnreachable bool
	// Dialer makes the connections; nil means a net.Dialer.
	Dialer Dialer

	// MaxQueued is the number of bytes queued for the server and not
	// yet written beyond which Data waits (or fails, see WhenFull);
	// 0 means DefaultMaxQueued.
	MaxQueued int64
	// ResultBuffer is the number of results of one analyzer not yet
	// received from its Results channel beyond which Data waits (or
	// fails); 0 means DefaultResultBuffer. Values up to the channel's
	// own capacity (16) are raised to 17.
	ResultBuffer int
	// MaxPendingResults is the number of results of one analyzer not
	// yet received beyond which the analyzer is ended with an
	// *OverflowError (and deleted on the server): the bound on memory
	// when the server sends more than the data asked for; 0 means
	// DefaultMaxPendingResults. It is raised to ResultBuffer if lower.
	MaxPendingResults int
	// WhenFull says whether Data waits or fails when a limit is
	// reached.
	WhenFull WhenFull
	// WriteTimeout is how long a write to the server may make no
	// progress before the connection is given up (conn.Config's
	// WriteTimeout); 0 means conn.DefaultWriteTimeout.
	WriteTimeout time.Duration

	// DataTypes are data types Data accepts besides stream, packet and
	// the types defined with imp.DefineDataTypes. A Perl server dies on
	// a data type its process has not defined and loses the data
	// silently, so Data refuses other types with a *DataTypeError.
	DataTypes []imp.DataType

	// Logger receives the factory's logs: warnings for results and
	// exceptions for analyzers that were never created, connection
	// losses and failed connection attempts; debug for every RPC. nil
	// means none.
	Logger *slog.Logger
}

// withDefaults returns o with every default filled in, or an
// *OptionError.
func (o Options) withDefaults() (Options, error) {
	if o.Wire != conn.Storable && o.Wire != conn.Sereal {
		return o, &OptionError{Option: "Wire", Msg: fmt.Sprintf("unknown wire format %d", o.Wire)}
	}
	if o.Fail != FailHard && o.Fail != FailSoft {
		return o, &OptionError{Option: "Fail", Msg: fmt.Sprintf("unknown failure mode %d", o.Fail)}
	}
	if o.WhenFull != WhenFullWait && o.WhenFull != WhenFullFail {
		return o, &OptionError{Option: "WhenFull", Msg: fmt.Sprintf("unknown value %d", o.WhenFull)}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxFrameSize", int64(o.MaxFrameSize)}, {"DialTimeout", int64(o.DialTimeout)},
		{"MaxBackoff", int64(o.Reconnect.MaxBackoff)}, {"MaxQueued", o.MaxQueued},
		{"ResultBuffer", int64(o.ResultBuffer)}, {"MaxPendingResults", int64(o.MaxPendingResults)},
	} {
		if f.v < 0 {
			return o, &OptionError{Option: f.name, Msg: "must not be negative"}
		}
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Reconnect.MinBackoff == 0 {
		o.Reconnect.MinBackoff = DefaultMinBackoff
	}
	if o.Reconnect.MaxBackoff == 0 {
		o.Reconnect.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxQueued == 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.ResultBuffer == 0 {
		o.ResultBuffer = DefaultResultBuffer
	}
	o.ResultBuffer = max(o.ResultBuffer, resultChanCap+1)
	if o.MaxPendingResults == 0 {
		o.MaxPendingResults = DefaultMaxPendingResults
	}
	o.MaxPendingResults = max(o.MaxPendingResults, o.ResultBuffer)
	if o.Dialer == nil {
		o.Dialer = &net.Dialer{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := o.connConfig().Wire.Wire(); err != nil {
		return o, &OptionError{Option: "SerealProtocol", Msg: err.Error()}
	}
	return o, nil
}

// connConfig returns the configuration of the connections.
func (o *Options) connConfig() *conn.Config {
	return &conn.Config{
		Wire: conn.Options{
			Format:         o.Wire,
			MaxFrameSize:   o.MaxFrameSize,
			SerealProtocol: o.SerealProtocol,
			// Perl's Sereal::Decoder misreads a document that ends in an
			// integer when its read ends right after the integer's tag
			// (conn.Options.SerealStringTail), and a client's contexts,
			// interfaces and deletes end in integers.
			SerealStringTail: true,
		},
		WriteTimeout: o.WriteTimeout,
		Logger:       o.Logger,
	}
}
