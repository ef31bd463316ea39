#!/usr/bin/perl
# Measures Perl on the cases of the Go benchmarks of the IMP RPC wire
# (conn/bench_test.go), built the same way, and prints one line per case:
#
#   case  op  ns/op  frames/s  MB/s
#
#   perl perl-fixtures/wire-bench.pl [seconds per measurement] [rounds] [round trips]
#
# Cases: a data RPC data(7, 0, 123456, -1, 'x' x N) for N = 64 B, 1 KiB,
# 16 KiB and 256 KiB, encoded and decoded on each wire the way
# Net::IMP::Remote's wire classes do it:
#
#   storable  encode: pack("SL/a*", $op, nfreeze(\@args))
#             decode: unpack("SL/a*") + thaw
#   sereal    encode: a reused Sereal::Encoder->encode([$op, @args])
#             decode: a reused Sereal::Decoder->decode($doc)
#
# and, when Net::IMP::Remote is on PERL5LIB, its own rpc2buf and buf2rpc
# (with the dualvar mapping). MB/s counts the data bytes (10^6 bytes/s).
# Each measurement runs for the given time (default 1 s); with several
# rounds (default 3) the best counts, as on a shared machine the fastest
# run is the one least disturbed.
#
# The round trip: a client process sends data RPCs of 64 bytes over
# loopback TCP to a server process, with up to 256 in flight; the server
# answers each with result(pass); frames/s counts answered RPCs (default
# 200000 of them).
use v5.36;
use Storable qw(nfreeze thaw);
use Sereal::Encoder ();
use Sereal::Decoder ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use IO::Socket::INET ();
use Time::HiRes qw(time);

my ($seconds, $rounds, $trips) = (@ARGV, 1, 3, 200000)[0, 1, 2];

my @sizes = ([ '64B', 64 ], [ '1KiB', 1 << 10 ], [ '16KiB', 16 << 10 ], [ '256KiB', 256 << 10 ]);
my $have_upstream = eval {
    require Net::IMP::Remote::Storable;
    require Net::IMP::Remote::Sereal;
    require Net::IMP;
    1;
};

# rate runs $code repeatedly for $seconds and returns nanoseconds per call.
sub rate ($code) {
    my $best;
    for (1 .. $rounds) {
        my ($n, $start, $elapsed) = (0, time, 0);
        my $batch = 1;
        while ($elapsed < $seconds) {
            $code->() for 1 .. $batch;
            $n += $batch;
            $elapsed = time - $start;
            $batch *= 2 if $batch < 1 << 16;
        }
        my $ns = $elapsed / $n * 1e9;
        $best = $ns if !defined $best || $ns < $best;
    }
    return $best;
}

sub report ($case, $op, $ns, $bytes) {
    printf "%-16s %-14s %12.1f %12.0f %10.1f\n", $case, $op, $ns, 1e9 / $ns, $bytes / $ns * 1e3;
}

printf "%-16s %-14s %12s %12s %10s\n", qw(case op ns/op frames/s MB/s);
my $senc = Sereal::Encoder->new;
my $sdec = Sereal::Decoder->new;
for my $s (@sizes) {
    my ($name, $n) = @$s;
    my @args = (7, 0, 123456, -1, 'x' x $n);
    my $frame = pack('SL/a*', 0x4005, nfreeze(\@args));
    report("storable/$name", 'encode', rate(sub { my $b = pack('SL/a*', 0x4005, nfreeze(\@args)) }), $n);
    report("storable/$name", 'decode', rate(sub { my ($op, $p) = unpack('SL/a*', $frame); my $a = thaw($p) }), $n);
    my $doc = $senc->encode([0x4005, @args]);
    report("sereal/$name", 'encode', rate(sub { my $b = $senc->encode([0x4005, @args]) }), $n);
    report("sereal/$name", 'decode', rate(sub { my $a = $sdec->decode($doc) }), $n);
    next unless $have_upstream;
    my $rpc = [ Net::IMP::Remote::Protocol::IMPRPC_DATA(), 7, 0, 123456, Net::IMP::IMP_DATA_STREAM(), 'x' x $n ];
    for my $w ([ storable => 'Net::IMP::Remote::Storable' ], [ sereal => 'Net::IMP::Remote::Sereal' ]) {
        my $wire = $w->[1]->new;
        my $buf = $wire->rpc2buf($rpc);
        report("$w->[0]/$name", 'rpc2buf', rate(sub { my $b = $wire->rpc2buf($rpc) }), $n);
        report("$w->[0]/$name", 'buf2rpc', rate(sub { my $b = $buf; my $r = $wire->buf2rpc(\$b) }), $n);
    }
}

# ---- round trip ------------------------------------------------------------

sub frames_of ($wire, $dec, $bufref) {
    my @rpcs;
    if ($wire eq 'storable') {
        while (length($$bufref) >= 6) {
            my ($len) = unpack('x2L', $$bufref);
            last if length($$bufref) - 6 < $len;
            my ($op, $p) = unpack('SL/a*', $$bufref);
            substr($$bufref, 0, $len + 6, '');
            push @rpcs, [ $op, @{ thaw($p) } ];
        }
    } else {
        while (length $$bufref) {
            my $out;
            $dec->decode($$bufref, $out);
            last unless defined $out;
            push @rpcs, $out;
        }
    }
    return @rpcs;
}

sub encode_rpc ($wire, $enc, $op, @args) {
    return pack('SL/a*', $op, nfreeze(\@args)) if $wire eq 'storable';
    return $enc->encode([ $op, @args ]);
}

sub serve ($wire, $sock) {
    my $enc = Sereal::Encoder->new;
    my $dec = Sereal::Decoder->new({ incremental => 1 });
    my $buf = '';
    while (sysread($sock, $buf, 65536, length $buf)) {
        my $out = '';
        for my $rpc (frames_of($wire, $dec, \$buf)) {
            $out .= encode_rpc($wire, $enc, 0x4103, $rpc->[1], 0x1001, $rpc->[2], $rpc->[3] + length $rpc->[5]);
        }
        while (length $out) {
            my $n = syswrite($sock, $out) // die "server write: $!";
            substr($out, 0, $n, '');
        }
    }
    exit 0;
}

sub round_trip ($wire) {
    my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1) or die "listen: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $s = $l->accept or die "accept: $!";
        $s->setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
        serve($wire, $s);
    }
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $l->sockport) or die "connect: $!";
    $c->setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    my $enc = Sereal::Encoder->new;
    my $dec = Sereal::Decoder->new({ incremental => 1 });
    my $data = 'x' x 64;
    my ($sent, $got, $buf, $start) = (0, 0, '', time);
    while ($got < $trips) {
        my $out = '';
        while ($sent < $trips && $sent - $got < 256) {
            $out .= encode_rpc($wire, $enc, 0x4005, 7, 0, $sent, -1, $data);
            $sent++;
        }
        while (length $out) {
            my $n = syswrite($c, $out) // die "client write: $!";
            substr($out, 0, $n, '');
        }
        sysread($c, $buf, 65536, length $buf) or die "client read: $!";
        $got += scalar frames_of($wire, $dec, \$buf);
    }
    my $elapsed = time - $start;
    close $c;
    waitpid $pid, 0;
    report("$wire/roundtrip", '64B', $elapsed / $trips * 1e9, 64);
}

round_trip($_) for qw(storable sereal);
