package checker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/check"
	"github.com/goimp/imprpc/conn"
)

// checkNames are the names of every check, in order.
func checkNames() []string {
	var names []string
	for _, c := range check.Checks() {
		names = append(names, c.Name)
	}
	return names
}

// runChecks runs the checker as a library and returns its results.
func runChecks(addr string, opts check.Options) ([]check.Result, check.Summary) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var results []check.Result
	sum, err := check.Run(ctx, addr, opts, func(r check.Result) {
		GinkgoWriter.Println(r)
		results = append(results, r)
	})
	Expect(err).NotTo(HaveOccurred())
	return results, sum
}

// byStatus returns the names of the results with status s.
func byStatus(results []check.Result, s check.Status) []string {
	var names []string
	for _, r := range results {
		if r.Status == s {
			names = append(names, r.Check)
		}
	}
	return names
}

// imprpc runs the command and returns its exit status and stdout.
func imprpc(args ...string) (int, string) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, GinkgoWriter
	err := cmd.Run()
	GinkgoWriter.Print(out.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	Expect(err).NotTo(HaveOccurred())
	return 0, out.String()
}

// Warnings a Perl server earns where it is loose by design: it waits for
// the bytes an oversized frame announces, its Sereal reader swallows
// garbage and goes silent (its Storable reader drops a bad frame and may
// close), and its Sereal::Decoder may misread a frame arriving in pieces.
var perlLoose = []string{"framing/oversized", "framing/garbage", "framing/split"}

// loose returns the warnings k may give: none for our server.
func loose(k kind) []string {
	switch k {
	case standPattern, standDecline, perlPattern:
		return perlLoose
	}
	return nil
}

// conforming returns an entry per wire of k.
func conforming(k kind, labels ...any) []TableEntry {
	var es []TableEntry
	for _, w := range wires {
		es = append(es, Entry(string(k)+", "+w.String(), append(labels, k, w)...))
	}
	return es
}

var conformingEntries = func() []TableEntry {
	var es []TableEntry
	for _, k := range []kind{goPattern, goDecline, servePattern, serveDecline, standPattern, standDecline} {
		es = append(es, conforming(k)...)
	}
	return append(es, conforming(perlPattern, Label("live"))...)
}()

var _ = Describe("a conforming server", func() {
	DescribeTable("passes every check of check.Run (warnings only where Perl is loose by design)",
		func(k kind, w conn.Format) {
			e := endpointOf(k, w)
			results, sum := runChecks(e.addr, check.Options{Wire: w})
			names := make([]string, len(results))
			for i, r := range results {
				names[i] = r.Check
			}
			Expect(names).To(Equal(checkNames()))
			Expect(byStatus(results, check.Fail)).To(BeEmpty())
			Expect(byStatus(results, check.NotApplicable)).To(BeEmpty())
			for _, name := range byStatus(results, check.Warn) {
				Expect(loose(k)).To(ContainElement(name), "a warning where %s must pass", k)
			}
			Expect(sum.OK()).To(BeTrue())
			Expect(sum.Passed + sum.Warnings).To(Equal(len(checkNames())))
		},
		conformingEntries,
	)

	DescribeTable("passes \"imprpc conformance\", exit status 0",
		func(k kind, w conn.Format, asJSON bool) {
			e := endpointOf(k, w)
			args := []string{"conformance", "-I", w.String()}
			if asJSON {
				args = append(args, "--json")
			}
			code, out := imprpc(append(args, e.addr)...)
			Expect(code).To(Equal(0), out)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			Expect(lines).To(HaveLen(len(checkNames()) + 1))
			var sum check.Summary
			for i, name := range checkNames() {
				var r check.Result
				if asJSON {
					Expect(json.Unmarshal([]byte(lines[i]), &r)).To(Succeed(), lines[i])
				} else {
					status, rest, _ := strings.Cut(lines[i], " ")
					Expect(r.Status.UnmarshalText([]byte(status))).To(Succeed(), lines[i])
					r.Check, _, _ = strings.Cut(rest, ":")
				}
				Expect(r.Check).To(Equal(name))
				Expect(r.Status).To(Or(Equal(check.Pass), Equal(check.Warn)), lines[i])
				if r.Status == check.Warn {
					Expect(loose(k)).To(ContainElement(name), lines[i])
				}
				sum.Add(r)
			}
			if asJSON {
				var got check.Summary
				Expect(json.Unmarshal([]byte(lines[len(lines)-1]), &got)).To(Succeed())
				Expect(got).To(Equal(sum))
			} else {
				Expect(lines[len(lines)-1]).To(Equal(sum.String()))
			}
		},
		Entry("imprpc serve, pattern, storable", servePattern, conn.Storable, false),
		Entry("imprpc serve, testing:decline, sereal, --json", serveDecline, conn.Sereal, true),
		Entry("the Perl stand-in, pattern, storable, --json", standPattern, conn.Storable, true),
		Entry("imprpc_server.pl, Net::IMP::Pattern, storable", Label("live"), perlPattern, conn.Storable, false),
		Entry("imprpc_server.pl, Net::IMP::Pattern, sereal, --json", Label("live"), perlPattern, conn.Sereal, true),
	)
})

// brokenOpts keeps the checks of broken servers short: they wait for
// replies that never come.
var brokenOpts = check.Options{Timeout: time.Second, Quiet: 300 * time.Millisecond, Analyzers: 100}

// failing maps the checks a broken server must fail to a pattern of what
// the failure says came.
type failing map[string]string

// brokenCase is what the checker must find on a broken server.
type brokenCase struct {
	fails    failing
	warns    []string
	notAppl  []string
	wantText string // text the Expected of the first failure contains
}

var _ = Describe("a broken server", func() {
	DescribeTable("fails exactly the checks it breaks, naming what was expected and what came",
		func(f flaw, w conn.Format, c brokenCase) {
			opts := brokenOpts
			opts.Wire = w
			results, sum := runChecks(brokenServers[f][w].l.Addr().String(), opts)
			Expect(results).To(HaveLen(len(checkNames())))
			got := failing{}
			for _, r := range results {
				if r.Status == check.Fail {
					got[r.Check] = r.Got
					Expect(r.Expected).NotTo(BeEmpty())
					Expect(r.String()).To(HavePrefix("FAIL " + r.Check + ": expected "))
				}
			}
			Expect(got).To(HaveLen(len(c.fails)), "failed: %v", got)
			for name, pattern := range c.fails {
				Expect(got).To(HaveKeyWithValue(name, MatchRegexp(pattern)))
			}
			Expect(byStatus(results, check.Warn)).To(ConsistOf(c.warns))
			Expect(byStatus(results, check.NotApplicable)).To(ConsistOf(c.notAppl))
			for _, r := range results {
				if r.Status == check.Fail && c.wantText != "" {
					Expect(r.Expected).To(ContainSubstring(c.wantText))
					break
				}
			}
			Expect(sum.OK()).To(Equal(len(c.fails) == 0))
		},
		brokenEntries(noFlaw, brokenCase{}),
		brokenEntries(wrongVersion, brokenCase{
			fails:    failing{"handshake/version": `^\["set_version",2\]$`},
			wantText: "set_version(1)",
		}),
		brokenEntries(noVersion, brokenCase{
			warns:   []string{"handshake/set-version"},
			notAppl: []string{"handshake/version"},
		}),
		brokenEntries(wrongInterfaceReply, brokenCase{
			fails: failing{
				"interface/one":     `^\["interface",.*imp.data.packet.*not offered or out of order`,
				"interface/several": `not offered or out of order`,
			},
			wantText: "interface(...) with the matching ones of",
		}),
		brokenEntries(noUnknownException, brokenCase{
			fails: failing{
				"analyzer/unknown": `nothing within 1s`,
				"analyzer/delete":  `nothing within 1s`,
			},
			wantText: `exception(4242, "no analyzer 4242")`,
		}),
		brokenEntries(noDuplicateException, brokenCase{
			fails:    failing{"analyzer/duplicate": `before the interface reply`},
			wantText: `exception(1, "analyzer exists already")`,
		}),
		brokenEntries(resultsAfterDelete, brokenCase{
			fails:    failing{"analyzer/delete": `^\["result",1,"pass",0,-1\]`},
			wantText: `for data after delete_analyzer(1), and no result of 1 after it`,
		}),
		closeOnNewEntries(),
	)

	It("makes \"imprpc conformance\" exit 1 with FAIL lines saying what was expected and what came", func() {
		code, out := imprpc("conformance", "-I", "sereal", "--timeout", "1s", brokenServers[wrongVersion][conn.Sereal].l.Addr().String())
		Expect(code).To(Equal(1))
		Expect(out).To(ContainSubstring("\nFAIL handshake/version: expected set_version(1); got [\"set_version\",2]\n"))
		Expect(out).To(HaveSuffix("\nconformance: 16 passed, 1 failed, 0 warnings, 0 not applicable\n"))
	})
})

// brokenEntries returns an entry per wire for a flaw.
func brokenEntries(f flaw, c brokenCase) []TableEntry {
	var es []TableEntry
	for _, w := range wires {
		es = append(es, Entry(string(f)+", "+w.String(), f, w, c))
	}
	return es
}

// closeOnNewEntries: every check that makes an analyzer fails; on the
// Sereal wire framing/split is a warning, the way Perl's Sereal reader
// breaking on a split frame is.
func closeOnNewEntries() []TableEntry {
	const closed = `closed|broke`
	fails := failing{
		"analyzer/new": closed, "analyzer/duplicate": closed, "analyzer/delete": closed,
		"data/end": closed, "analyzers/many": closed, "framing/large": closed,
	}
	st := failing{"framing/split": closed}
	for k, v := range fails {
		st[k] = v
	}
	return []TableEntry{
		Entry(string(closeOnNewAnalyzer)+", storable", closeOnNewAnalyzer, conn.Storable, brokenCase{fails: st}),
		Entry(string(closeOnNewAnalyzer)+", sereal", closeOnNewAnalyzer, conn.Sereal, brokenCase{fails: fails, warns: []string{"framing/split"}}),
	}
}
