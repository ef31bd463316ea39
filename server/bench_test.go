package server_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	_ "github.com/goimp/imprpc/plugin/all"
	"github.com/goimp/imprpc/server"
)

// The benchmarks of docs/benchmarks.md ("## Server"): the same load
// against our server, against Perl's imprpc_server.pl (when
// Net::IMP::Remote loads), and against a plain Go frame echo, in one run.
//
//	go test -run '^$' -bench 'Throughput|RoundTrip' ./server/
//
// Plugins: "pass" answers each data RPC with pass(dir, end): in our server
// a minimal Go plugin, in Perl's ImpFixture::Plugin::EveryResult, which
// reads the data ("pass" and blanks) as the word pass; "pattern" is
// Net::IMP::Pattern looking for a string that never occurs, which
// answers each chunk with one pass, in both servers.

// benchSizes are the bytes of data per RPC: 64B, 1KiB, 16KiB, 256KiB.
var benchSizes = []int{64, 1 << 10, 16 << 10, 256 << 10}

// sizeName names a size as the benchmarks do.
func sizeName(n int) string {
	if n < 1<<10 {
		return fmt.Sprintf("%dB", n)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

var benchWires = []struct {
	name string
	opts conn.Options
}{{"storable", conn.Options{}}, {"sereal", conn.Options{Format: conn.Sereal}}}

const neverMatches = "string=imprpc-never-matches&action=deny&actdata=denied"

// benchPlugins are the plugins: the spec for our server, the -M for Perl's.
var benchPlugins = []struct {
	name, goSpec, perlSpec string
}{
	{"pass", "", "ImpFixture::Plugin::EveryResult"},
	{"pattern", "Net::IMP::Pattern=" + neverMatches, "Net::IMP::Pattern=" + neverMatches},
}

// passFactory is the minimal pass-through plugin: one pass per chunk.
var passFactory = imp.NewFactory([]imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass}}},
	func(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
		var pos [2]int64
		return imp.AnalyzerFunc(func(dir imp.Dir, offset int64, _ imp.DataType, data []byte) {
			if offset > 0 {
				pos[dir] = offset
			}
			pos[dir] += int64(len(data))
			out.Emit(imp.Pass(dir, pos[dir]))
		}), nil
	})

// payload returns the data of an RPC of n bytes: "pass" and blanks.
func payload(n int) []byte {
	return []byte(("pass" + strings.Repeat(" ", n))[:n])
}

// The servers under test run in processes of their own, started on first
// use and stopped by TestMain: our server and the echo in this test
// binary run again (see benchServerMain), Perl's imprpc_server.pl in perl.
// So each has the machine's cores to itself, as the load client has, and
// the CPU time each uses can be read apart from the load client's.
var (
	targetsMu sync.Mutex
	targets   = map[string]*target{}
)

type target struct {
	addr string
	cmd  *exec.Cmd
	err  error // why it could not start
}

func stopTargets() {
	targetsMu.Lock()
	defer targetsMu.Unlock()
	for k, t := range targets {
		if t.cmd != nil {
			_ = t.cmd.Process.Signal(syscall.SIGTERM)
			timer := time.AfterFunc(10*time.Second, func() { _ = t.cmd.Process.Kill() })
			_ = t.cmd.Wait()
			timer.Stop()
		}
		delete(targets, k)
	}
}

// targetFor returns the running server kind ("go", "perl", "echo") for
// the wire and plugin, starting it if needed; it skips b with the reason
// when it cannot run.
func targetFor(b *testing.B, kind, wire, plugin, goSpec, perlSpec string) *target {
	b.Helper()
	key := kind + "/" + wire + "/" + plugin
	targetsMu.Lock()
	t, ok := targets[key]
	if !ok {
		t = &target{}
		var cmd *exec.Cmd
		switch kind {
		case "perl":
			cmd, t.err = perlServerCmd(wire, perlSpec)
		default:
			cmd = exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "IMPRPC_BENCH_SERVE="+kind, "IMPRPC_BENCH_WIRE="+wire, "IMPRPC_BENCH_SPEC="+goSpec)
		}
		if t.err == nil {
			t.addr, t.err = startTarget(cmd)
			t.cmd = cmd
		}
		targets[key] = t
	}
	targetsMu.Unlock()
	if t.err != nil {
		b.Skip(t.err)
	}
	return t
}

// startTarget starts a server process, which prints "listening ADDR" on
// its stdout when it is ready (imprpc_server.pl prints nothing: its
// address was chosen before, the last argument).
func startTarget(cmd *exec.Cmd) (string, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", fmt.Errorf("%v: %v\n%s", cmd.Args, err, stderr.String())
	}
	if cmd.Args[0] == "perl" {
		addr := cmd.Args[len(cmd.Args)-1]
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return addr, nil
			}
			if time.Now().After(deadline) {
				return fail(errors.New("did not listen"))
			}
		}
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		return fail(fmt.Errorf("no address (%v)", err))
	}
	return addr, nil
}

// benchServerMain is a server process of the benchmarks: our server with
// the wire and plugin spec of the environment (the minimal pass plugin
// for none), or the plain echo; it serves until SIGTERM. With
// IMPRPC_BENCH_CPUPROFILE=FILE it writes a CPU profile of its life:
//
//	IMPRPC_BENCH_CPUPROFILE=/tmp/srv.prof go test -run '^$' -bench ... ./server/
func benchServerMain(kind string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	if file := os.Getenv("IMPRPC_BENCH_CPUPROFILE"); file != "" {
		f, err := os.Create(fmt.Sprintf("%s.%s.%d", file, kind, os.Getpid()))
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		go func() {
			<-sig
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	if kind == "echo" {
		fmt.Printf("listening %s\n", l.Addr())
		echoServer(l)
		return
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as imprpc serve runs
	}
	if p := os.Getenv("XPROCS"); p != "" {
		n, _ := strconv.Atoi(p)
		runtime.GOMAXPROCS(n)
	}
	format, err := conn.ParseFormat(os.Getenv("IMPRPC_BENCH_WIRE"))
	if err != nil {
		panic(err)
	}
	f := passFactory
	if spec := os.Getenv("IMPRPC_BENCH_SPEC"); spec != "" {
		if f, err = server.OpenPlugins(spec); err != nil {
			panic(err)
		}
	}
	srv := &server.Server{Factory: f, Wire: conn.Options{Format: format}, Logger: discardLogger}
	fmt.Printf("listening %s\n", l.Addr())
	_ = srv.Serve(l)
}

// cpuTime returns the CPU time (user and system) process pid has used,
// or -1 where /proc cannot tell.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perlServer finds imprpc_server.pl and the PERL5LIB it runs with, or
// says why it cannot run.
func perlServer() (script string, perl5lib string, err error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", "", err
	}
	libs := []string{filepath.Join(root, "perl-fixtures", "lib")}
	upstream := os.Getenv("IMPRPC_UPSTREAM")
	if upstream == "" {
		if home, err := os.UserHomeDir(); err == nil {
			upstream = filepath.Join(home, ".cache", "imprpc", "upstream")
		}
	}
	var candidates []string
	for _, l := range filepath.SplitList(os.Getenv("PERL5LIB")) {
		candidates = append(candidates, filepath.Join(l, "..", "bin", "imprpc_server.pl"))
	}
	candidates = append(candidates, filepath.Join(upstream, "p5-net-imp-remote", "bin", "imprpc_server.pl"))
	libs = append(libs, filepath.Join(upstream, "p5-net-imp", "lib"), filepath.Join(upstream, "p5-net-imp-remote", "lib"))
	if old := os.Getenv("PERL5LIB"); old != "" {
		libs = append(libs, old)
	}
	perl5lib = strings.Join(libs, string(os.PathListSeparator))
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			script = c
			break
		}
	}
	if script == "" {
		return "", "", fmt.Errorf("Perl's imprpc_server.pl not found (in PERL5LIB's ../bin or %s)", upstream)
	}
	cmd := exec.Command("perl", "-MNet::IMP::Remote", "-MNet::IMP::Pattern", "-MAnyEvent", "-MSereal::Encoder", "-e1")
	cmd.Env = append(os.Environ(), "PERL5LIB="+perl5lib)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("Perl's imprpc_server.pl cannot run: Net::IMP::Remote, AnyEvent or Sereal do not load: %s", firstLine(out))
	}
	return script, perl5lib, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// perlServerCmd returns the command running imprpc_server.pl with the
// wire and plugin on a free port of the loopback.
func perlServerCmd(wire, spec string) (*exec.Cmd, error) {
	script, perl5lib, err := perlServer()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	impl := map[string]string{"storable": "Storable", "sereal": "Sereal"}[wire]
	cmd := exec.Command("perl", script, "-M", spec, "-I", impl, addr)
	cmd.Env = append(os.Environ(), "PERL5LIB="+perl5lib)
	return cmd, nil
}

// BenchmarkThroughput measures data RPCs per second and MB/s of data
// through one and through eight connections (one analyzer each, up to
// 256 RPCs or 8 MiB in flight per connection).
func BenchmarkThroughput(b *testing.B) {
	for _, kind := range []string{"go", "perl", "echo"} {
		for _, bw := range benchWires {
			for _, bp := range benchPlugins {
				if kind == "echo" && (bw.name != "storable" || bp.name != "pass") {
					continue // the echo has no wire and no plugin
				}
				for _, conns := range []int{1, 8} {
					for _, sz := range benchSizes {
						name := fmt.Sprintf("server=%s/wire=%s/plugin=%s/conns=%d/size=%s", kind, bw.name, bp.name, conns, sizeName(sz))
						if kind == "echo" {
							name = fmt.Sprintf("server=echo/conns=%d/size=%s", conns, sizeName(sz))
						}
						b.Run(name, func(b *testing.B) {
							tg := targetFor(b, kind, bw.name, bp.name, bp.goSpec, bp.perlSpec)
							ls := loadSpec{addr: tg.addr, wire: bw.opts, conns: conns, size: sz, total: b.N, window: windowFor(sz), payload: payload(sz)}
							res := measure(b, kind, tg, ls)
							b.ReportMetric(float64(b.N)/res.elapsed.Seconds(), "msg/s")
							b.ReportMetric(float64(b.N)*float64(sz)/res.elapsed.Seconds()/1e6, "MB/s")
						})
					}
				}
			}
		}
	}
}

// BenchmarkRoundTrip measures the round trip of one 1 KiB data RPC to its
// result, one at a time on one connection: p50 and p99 in microseconds.
func BenchmarkRoundTrip(b *testing.B) {
	const size = 1 << 10
	for _, kind := range []string{"go", "perl", "echo"} {
		for _, bw := range benchWires {
			for _, bp := range benchPlugins {
				if kind == "echo" && (bw.name != "storable" || bp.name != "pass") {
					continue
				}
				name := fmt.Sprintf("server=%s/wire=%s/plugin=%s", kind, bw.name, bp.name)
				if kind == "echo" {
					name = "server=echo"
				}
				b.Run(name, func(b *testing.B) {
					tg := targetFor(b, kind, bw.name, bp.name, bp.goSpec, bp.perlSpec)
					ls := loadSpec{addr: tg.addr, wire: bw.opts, conns: 1, size: size, total: b.N, window: 1, latency: true, payload: payload(size)}
					res := measure(b, kind, tg, ls)
					b.ReportMetric(float64(percentile(res.rtts, 50).Nanoseconds())/1e3, "p50_us")
					b.ReportMetric(float64(percentile(res.rtts, 99).Nanoseconds())/1e3, "p99_us")
				})
			}
		}
	}
}

// measure runs the load, with the benchmark's timer around it only, and
// reports the CPU time per RPC of the server process (srv-cpu-ns/msg)
// and of the load client (cli-cpu-ns/msg).
func measure(b *testing.B, kind string, tg *target, ls loadSpec) loadResult {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv0, cli0 := cpuTime(tg.cmd.Process.Pid), selfCPU()
	b.ResetTimer()
	var res loadResult
	var err error
	if kind == "echo" {
		res, err = runEcho(ctx, ls)
	} else {
		res, err = runLoad(ctx, ls)
	}
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if srv1 := cpuTime(tg.cmd.Process.Pid); srv0 >= 0 && srv1 >= 0 {
		b.ReportMetric(float64(srv1-srv0)/float64(b.N), "srv-cpu-ns/msg")
	}
	if cli1 := selfCPU(); cli0 >= 0 && cli1 >= 0 {
		b.ReportMetric(float64(cli1-cli0)/float64(b.N), "cli-cpu-ns/msg")
	}
	return res
}
