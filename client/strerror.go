package client

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// strerror returns the text Perl's $! shows after a failed connect with
// err: the C library's strerror of the errno ("Connection refused", "No
// such file or directory"), not Go's error text. Go's syscall package
// holds the C library's texts with the first letter lowered, so that
// letter is raised again. A name that does not resolve is "Invalid
// argument" (IO::Socket::IP sets EINVAL), a timeout "Connection timed
// out" (IO::Socket's connect timeout sets ETIMEDOUT).
func strerror(err error) string {
	var errno syscall.Errno
	var dnsErr *net.DNSError
	var addrErr *net.AddrError
	switch {
	case errors.As(err, &errno):
		return upperFirst(errno.Error())
	case errors.As(err, &dnsErr), errors.As(err, &addrErr):
		return upperFirst(syscall.EINVAL.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return upperFirst(syscall.ETIMEDOUT.Error())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return upperFirst(syscall.ETIMEDOUT.Error())
	}
	return upperFirst(err.Error())
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
