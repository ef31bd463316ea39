package matrix_test

import (
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// The matrix as it ran: one row per scenario, one column per cell, each
// "proved", "N/A: why", "skipped: why" or "FAILED". It goes to
// GinkgoWriter (shown with -v), and as a Markdown table to the file
// named by IMPRPC_MATRIX_REPORT when that is set.
var _ = ReportAfterSuite("the interop matrix as it ran", func(r Report) {
	var cols []string
	for _, c := range cells() {
		cols = append(cols, c.String())
	}
	var rows []string
	outcome := map[string]map[string]string{}
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || len(s.ContainerHierarchyTexts) < 2 {
			continue
		}
		cell, row := s.ContainerHierarchyTexts[1], s.LeafNodeText
		if outcome[row] == nil {
			outcome[row] = map[string]string{}
			rows = append(rows, row)
		}
		switch {
		case s.State == types.SpecStatePassed:
			outcome[row][cell] = "proved"
		case s.State == types.SpecStateSkipped && strings.HasPrefix(s.Failure.Message, "N/A: "):
			outcome[row][cell] = s.Failure.Message
		case s.State == types.SpecStateSkipped:
			outcome[row][cell] = "skipped (live tier)"
		default:
			outcome[row][cell] = "FAILED"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| scenario | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |", strings.ReplaceAll(row, "|", `\|`))
		for _, col := range cols {
			fmt.Fprintf(&b, " %s |", outcome[row][col])
		}
		b.WriteString("\n")
	}
	fmt.Fprint(GinkgoWriter, b.String())
	if path := os.Getenv("IMPRPC_MATRIX_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintf(GinkgoWriter, "matrix report: %v\n", err)
		}
	}
})
