package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

func init() {
	register(&command{
		Name:  "probe",
		Args:  "[-I storable|sereal] [--timeout D] ADDR",
		Short: "check that an IMP RPC server answers, and show its plugin's interfaces",
		Long: `
Probe connects to the IMP RPC server at ADDR (host:port, [v6addr]:port or a
UNIX socket path containing "/"), asks for every interface its plugin
supports (get_interface with none offered) and prints one JSON line:

  {"addr":"127.0.0.1:2000","connect_us":180,"interfaces":[["imp.data.stream",["pass","deny","fatal"]]],"ok":true,"rtt_us":95,"wire":"storable"}

interfaces are shown as "imprpc frames" shows them, rtt_us is the round
trip of the get_interface call and connect_us the time to connect, in
microseconds. The exit status is 0 when the server answered with at least
one interface within --timeout, and 1 otherwise; then the line has
"ok":false and "error" says why (also on stderr). For health checks in
scripts and orchestrators.`,
		Flags: probeFlags,
	})
}

// probeReport is the line probe prints.
type probeReport struct {
	Addr       string            `json:"addr"`
	Wire       string            `json:"wire"`
	OK         bool              `json:"ok"`
	Error      string            `json:"error,omitempty"`
	Interfaces []json.RawMessage `json:"interfaces"`
	ConnectUS  int64             `json:"connect_us"`
	RTTUS      int64             `json:"rtt_us"`
}

func probeFlags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	impl := fs.String("I", "storable", "the wire: storable or sereal (any case)")
	alias(fs, "I", "impl")
	timeout := fs.Duration("timeout", 5*time.Second, "how long the whole check may take")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one ADDR")
		}
		wire, err := conn.ParseFormat(*impl)
		if err != nil {
			return usagef("-I: %v", err)
		}
		if *timeout <= 0 {
			return usagef("--timeout must be positive")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		rep := probeReport{Addr: args[0], Wire: wire.String(), Interfaces: []json.RawMessage{}}
		perr := probe(ctx, &rep, wire)
		if perr != nil {
			rep.Error = perr.Error()
		}
		rep.OK = perr == nil
		line, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(e.Stdout, "%s\n", line); err != nil {
			return err
		}
		return perr
	}
}

// probe fills rep from the server.
func probe(ctx context.Context, rep *probeReport, wire conn.Format) error {
	start := time.Now()
	f, err := client.Dial(ctx, rep.Addr, client.Options{Wire: wire, DialTimeout: time.Until(deadline(ctx))})
	if err != nil {
		return err
	}
	defer f.Close()
	rep.ConnectUS = time.Since(start).Microseconds()
	start = time.Now()
	ifs, err := f.GetInterface(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer to get_interface in time")
	}
	if err != nil {
		return err
	}
	rep.RTTUS = time.Since(start).Microseconds()
	if rep.Interfaces, err = interfacesJSON(ifs); err != nil {
		return err
	}
	if len(ifs) == 0 {
		return errors.New("the server's plugin supports no interface")
	}
	return nil
}

// deadline returns ctx's deadline (probe always has one).
func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// interfacesJSON shows interfaces as "imprpc frames" shows them.
func interfacesJSON(ifs []imp.Interface) ([]json.RawMessage, error) {
	b, err := conn.AppendJSON(nil, &conn.Interface{Interfaces: ifs})
	if err != nil {
		return nil, err
	}
	var all []json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	return all[1:], nil // without the op
}
