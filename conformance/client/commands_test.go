package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/imp"
)

// imprpc runs the command and returns its exit status, stdout and
// stderr.
func imprpc(args ...string) (int, string, string) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	Fail("imprpc " + args[0] + ": " + err.Error())
	return 0, "", ""
}

// serveProc is an "imprpc serve" process on a UNIX socket.
type serveProc struct {
	sock string
	args []string
	cmd  *exec.Cmd
}

// startServe runs "imprpc serve ARGS SOCK" until the spec ends.
func startServe(name string, args ...string) *serveProc {
	GinkgoHelper()
	p := &serveProc{sock: filepath.Join(tmpDir, name+".sock"), args: args}
	p.start()
	DeferCleanup(p.kill)
	return p
}

func (p *serveProc) start() {
	GinkgoHelper()
	p.cmd = exec.Command(binary, append(append([]string{"serve"}, p.args...), p.sock)...)
	p.cmd.Stderr = GinkgoWriter
	Expect(p.cmd.Start()).To(Succeed())
	Eventually(func() error {
		c, err := net.Dial("unix", p.sock)
		if err == nil {
			c.Close()
		}
		return err
	}, 10*time.Second, 5*time.Millisecond).Should(Succeed())
}

// kill ends the process at once, as a crash does.
func (p *serveProc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// files writes the data of both directions and returns their names.
func files(dir0, dir1 string) (string, string) {
	f0, f1 := filepath.Join(tmpDir, "dir0"), filepath.Join(tmpDir, "dir1")
	Expect(os.WriteFile(f0, []byte(dir0), 0o644)).To(Succeed())
	Expect(os.WriteFile(f1, []byte(dir1), 0o644)).To(Succeed())
	return f0, f1
}

var _ = Describe("imprpc analyze", func() {
	const (
		request = "GET /index.html?q=secret HTTP/1.0\r\nHost: example\r\n\r\n"
		reply   = "HTTP/1.0 200 OK\r\n\r\nthe secret is out, no more secrets. bye\r\n"
	)
	DescribeTable("prints through a server what the same plugin gives in-process with -M, line for line, chunked many ways",
		func(k kind) {
			forEach(k, func(t *target) {
				e := t.roles[rolePattern]
				f0, f1 := files(request, reply)
				for _, chunk := range []int{0, 1, 3, 7} {
					args := []string{"--chunk", strconv.Itoa(chunk), "--ctx", "caddr=192.0.2.10", "--ctx", "cport=40001", "--dir0", f0, "--dir1", f1, "--idle", "2s"}
					code, remote, errs := imprpc(append([]string{"analyze", "--remote", e.addr, "-I", t.wire.String()}, args...)...)
					Expect(code).To(Equal(0), "stderr: %s", errs)
					lcode, local, lerrs := imprpc(append([]string{"analyze", "-M", e.spec}, args...)...)
					Expect(lcode).To(Equal(0), "stderr: %s", lerrs)
					Expect(trimLines(remote)).To(Equal(trimLines(local)), "chunk %d", chunk)
					Expect(remote).To(Or(ContainSubstring(`"replace"`), ContainSubstring(`"deny"`)))
				}
			})
		}, entries())

	It("exits 1 with the exception when the server sends one", func() {
		s := startServe("every-stream", "-M", "testing:every_result=dtype=-1")
		f0, _ := files("pass x", "")
		code, out, errs := imprpc("analyze", "--remote", s.sock, "--type", "packet", "--dir0", f0)
		Expect(code).To(Equal(1))
		Expect(out).To(BeEmpty())
		Expect(errs).To(MatchRegexp(`imprpc analyze: exception\(1\): .*packet`))
		// In-process: the same refusal, the same empty output.
		code, out, errs = imprpc("analyze", "-M", "testing:every_result=dtype=-1", "--type", "packet", "--dir0", f0)
		Expect(code).To(Equal(1))
		Expect(out).To(BeEmpty())
		Expect(errs).To(ContainSubstring("packet"))
	})

	It("exits 0 after --idle when the plugin leaves the data unsettled, and prints what came", func() {
		s := startServe("every-any", "-M", "testing:every_result")
		f0, _ := files("log x", "")
		code, out, errs := imprpc("analyze", "--remote", s.sock, "--dir0", f0, "--idle", "100ms")
		Expect(code).To(Equal(0), "stderr: %s", errs)
		Expect(trimLines(out)).To(Equal([]string{`["log",0,0,5,"info","log message"]`}))
	})

	It("exits 1 with the C library's text when no server is there", func() {
		f0, _ := files("x", "")
		code, out, errs := imprpc("analyze", "--remote", filepath.Join(tmpDir, "nobody.sock"), "--dir0", f0)
		Expect(code).To(Equal(1))
		Expect(out).To(BeEmpty())
		Expect(errs).To(ContainSubstring("failed (No such file or directory)"))
	})
})

var _ = Describe("imprpc probe", func() {
	type report struct {
		OK         bool
		Error      string
		Interfaces []json.RawMessage
		RTTUS      *int64 `json:"rtt_us"`
		Wire       string
	}
	parse := func(out string) report {
		GinkgoHelper()
		lines := trimLines(out)
		Expect(lines).To(HaveLen(1))
		var r report
		Expect(json.Unmarshal([]byte(lines[0]), &r)).To(Succeed())
		return r
	}

	DescribeTable("reports a healthy server with its interfaces and the round trip, exit 0",
		func(k kind) {
			forEach(k, func(t *target) {
				code, out, errs := imprpc("probe", "-I", t.wire.String(), t.roles[rolePattern].addr)
				Expect(code).To(Equal(0), "stderr: %s", errs)
				r := parse(out)
				Expect(r.OK).To(BeTrue())
				Expect(r.Wire).To(Equal(t.wire.String()))
				Expect(r.RTTUS).NotTo(BeNil())
				Expect(r.Interfaces).To(HaveLen(1))
				Expect(string(r.Interfaces[0])).To(MatchRegexp(`^\[null,\["pass",("replace"|"deny")\]\]$`))
			})
		}, entries())

	It("reports a server that is not there, exit 1, with the reason", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := l.Addr().String()
		l.Close()
		code, out, errs := imprpc("probe", addr)
		Expect(code).To(Equal(1))
		r := parse(out)
		Expect(r.OK).To(BeFalse())
		Expect(r.Error).To(ContainSubstring("failed (Connection refused)"))
		Expect(errs).To(ContainSubstring("Connection refused"))
	})

	It("reports a server that does not answer in time, exit 1", func() {
		l, err := net.Listen("unix", filepath.Join(tmpDir, "silent.sock"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(l.Close)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				DeferCleanup(c.Close) // accepts, reads nothing, answers nothing
			}
		}()
		code, out, _ := imprpc("probe", "--timeout", "300ms", l.Addr().String())
		Expect(code).To(Equal(1))
		Expect(parse(out).Error).To(ContainSubstring("no answer"))
	})
})

var _ = Describe("imprpc bench", func() {
	DescribeTable("drives a server and prints its figures as the last line, with no errors",
		func(k kind) {
			forEach(k, func(t *target) {
				code, out, errs := imprpc("bench", "--remote", t.roles[rolePattern].addr, "-I", t.wire.String(),
					"--connections", "2", "--analyzers", "4", "--window", "2", "--chunk", "256", "--messages", "2000")
				Expect(code).To(Equal(0), "stderr: %s", errs)
				Expect(errs).To(BeEmpty(), "no progress line when stderr is no terminal")
				lines := trimLines(out)
				var r map[string]any
				Expect(json.Unmarshal([]byte(lines[len(lines)-1]), &r)).To(Succeed())
				for _, key := range []string{"messages_per_s", "mb_per_s", "results_per_s", "p50_us", "p99_us", "max_us", "connections", "chunk", "errors"} {
					Expect(r).To(HaveKey(key))
				}
				Expect(r["errors"]).To(BeEquivalentTo(0))
				Expect(r["connections"]).To(BeEquivalentTo(2))
				Expect(r["chunk"]).To(BeEquivalentTo(256))
				Expect(r["messages"]).To(BeNumerically(">=", 2000))
				Expect(r["results"]).To(BeNumerically(">=", r["messages"]))
				Expect(r["messages_per_s"]).To(BeNumerically(">", 0))
				Expect(r["p50_us"]).To(BeNumerically("<=", r["p99_us"]))
				Expect(r["p99_us"]).To(BeNumerically("<=", r["max_us"]))
			})
		}, entries())
})

var _ = Describe("The Go client against an imprpc serve process", func() {
	It("ends the analyzers with a *ConnectionLostError when the process is killed mid-stream, and connects again once it is back", func() {
		s := startServe("killed", "-M", "testing:every_result")
		ctx := testCtx()
		f, err := client.Dial(ctx, s.sock, client.Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(f.Close)
		var as []*client.Analyzer
		for range 10 {
			a, err := f.NewAnalyzer(ctx, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("log"))).To(Succeed())
			Eventually(a.Results()).Should(Receive())
			as = append(as, a)
		}
		s.kill()
		for _, a := range as {
			_, end := collect(a)
			Expect(end).To(MatchError(client.ErrConnectionLost))
		}
		// While it is away: fail hard, at once.
		a, err := f.NewAnalyzer(ctx, nil)
		Expect(err).NotTo(HaveOccurred())
		rs, end := collect(a)
		Expect(resultsJSON(rs)).To(MatchRegexp(`^\["fatal","connect to IMP server failed \((Connection refused|No such file or directory)\)"\]\n$`))
		var de *client.DialError
		Expect(errors.As(end, &de)).To(BeTrue())
		s.start()
		Eventually(func() error {
			a, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				return err
			}
			if err := a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("deny")); err != nil {
				return err
			}
			_, end := collect(a)
			if end != client.ErrFinished {
				return end
			}
			return nil
		}, 10*time.Second, 50*time.Millisecond).Should(Succeed())
	})
})
