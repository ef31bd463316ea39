//go:build unix

package storable

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the process has used.
// On a shared machine it grows only while the process runs, unlike the
// wall time benchmarks report.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
