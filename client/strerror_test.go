package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func needPerl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skipf("perl is not available: %v", err)
	}
}

// strerror gives for every errno the text Perl's $! shows for it.
func TestStrerrorLikePerl(t *testing.T) {
	needPerl(t)
	out, err := exec.Command("perl", "-e", `for (1..133) { $! = $_; print "$_\t$!\n" }`).Output()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n, text, _ := strings.Cut(line, "\t")
		i, _ := strconv.Atoi(n)
		errno := syscall.Errno(i)
		if strings.HasPrefix(text, "Unknown error") || strings.HasPrefix(errno.Error(), "errno ") {
			continue // neither side has a text
		}
		checked++
		if got := strerror(&net.OpError{Op: "dial", Net: "tcp", Err: errno}); got != text {
			t.Errorf("errno %d: %q, Perl %q", i, got, text)
		}
	}
	if checked < 100 {
		t.Errorf("only %d errnos compared", checked)
	}
}

// The text of a failed connection attempt is what $! holds after Perl's
// IO::Socket (as Net::IMP::Remote uses it) fails to connect to the same
// address: a closed TCP port, a missing UNIX socket, a file that is no
// socket, a name that does not resolve.
func TestDialErrorTextLikePerl(t *testing.T) {
	needPerl(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	notSocket := filepath.Join(dir, "file")
	if err := exec.Command("touch", notSocket).Run(); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{closed, filepath.Join(dir, "missing"), notSocket, "no-such-host.invalid:2000"} {
		script := `
			use IO::Socket::IP; use IO::Socket::UNIX;
			my $addr = shift;
			my $fd = $addr =~ m{/}
			    ? IO::Socket::UNIX->new(Peer => $addr, Type => SOCK_STREAM, Timeout => 10)
			    : IO::Socket::IP->new(PeerAddr => $addr, Timeout => 10);
			print $fd ? "connected" : "$!";`
		out, err := exec.Command("perl", "-e", script, addr).Output()
		if err != nil {
			t.Fatal(err)
		}
		perlText := string(out)
		_, err = Dial(context.Background(), addr, Options{})
		var de *DialError
		if !errors.As(err, &de) {
			t.Fatalf("%s: %v", addr, err)
		}
		if de.Text != perlText {
			t.Errorf("%s: %q, Perl %q", addr, de.Text, perlText)
		}
		if want := fmt.Sprintf("connect to IMP server failed (%s)", perlText); de.perlMessage() != want {
			t.Errorf("%q", de.perlMessage())
		}
	}
}
