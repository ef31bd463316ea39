#!/usr/bin/perl
# Measures Perl's Storable (XS) on the cases of the Go benchmarks in
# storable/bench_test.go (BenchmarkEncode, BenchmarkDecode), built the same
# way, and prints one line per case and operation:
#
#   case  op  ns/op  ops/s  bytes
#
# Times are CPU time (user and system) per operation, on both sides: on a
# shared machine other processes inflate wall time, not this. The Go
# benchmarks report it as the metric cpu-ns/op.
#
#   perl perl-fixtures/storable-bench.pl [--seconds S] [--rounds N] [--go]
#
# Each measurement runs the operation for S seconds (default 1); of N
# rounds (default 3) the best counts, as on a shared machine the fastest
# run is the one least disturbed. The data RPC cases include the 6-byte
# IMP RPC frame: pack("SL/a*") on encoding, unpack on decoding, as
# Net::IMP::Remote::Storable does.
#
# With --go (run from the repository root) each round also runs the Go
# benchmarks (go test -bench, one CPU, like Perl) right after Perl's, and
# the script prints a Markdown table of both with the ratio Perl/Go: the
# numbers for docs/benchmarks.md.
use v5.36;
use utf8;
use Storable qw(nfreeze thaw);
use Time::HiRes qw(time);

use Getopt::Long qw(GetOptions);

my ($seconds, $rounds, $with_go) = (1, 3, 0);
GetOptions('seconds=f' => \$seconds, 'rounds=i' => \$rounds, go => \$with_go)
  or die "usage: $0 [--seconds S] [--rounds N] [--go]\n";

sub data_rpc ($n) { return [ 7, 0, 123456, -1, 'x' x $n ] }

sub context_hash {
    return { caddr => '192.0.2.10', cport => 40001, laddr => '192.0.2.1', lport => '3000', daddr => '198.51.100.7', dport => 80 };
}

sub nested {
    my @a;
    for my $i (0 .. 5999) {
        push @a, {
            id     => $i,
            name   => "user$i",
            email  => "user$i\@example.com",
            score  => $i * 1.5 + 0.25,
            active => $i % 2,
            tags   => [ "a$i", 'b', 'c' ],
            nested => { x => $i * 1000, y => 'y' x 20 },
        };
    }
    return \@a;
}

my @cases = (
    [ data_64B      => data_rpc(64),       1 ],
    [ data_1KiB     => data_rpc(1 << 10),  1 ],
    [ data_16KiB    => data_rpc(16 << 10), 1 ],
    [ data_256KiB   => data_rpc(256 << 10), 1 ],
    [ context_6keys => context_hash(),     0 ],
    [ nested_1MB    => nested(),           0 ],
);

# cpu returns the CPU time (user and system) the process has used.
sub cpu { my ($user, $system) = times; return $user + $system }

# rate runs $code repeatedly for $seconds of CPU time and returns CPU
# nanoseconds per call. CPU time, unlike wall time, grows only while the
# process runs, so other load on a shared machine inflates it less.
sub rate ($code) {
    my ($n, $start, $elapsed) = (0, cpu(), 0);
    my $batch = 1;
    while ($elapsed < $seconds) {
        $code->() for 1 .. $batch;
        $n += $batch;
        $elapsed = cpu() - $start;
        $batch *= 2 if $batch < 1 << 16;
    }
    return $elapsed / $n * 1e9;
}

# perl_round measures every case once; it returns {"case op" => ns}.
sub perl_round {
    my %ns;
    for my $c (@cases) {
        my ($name, $value, $frame) = @$c;
        my $wire = $frame ? pack('SL/a*', 0x4005, nfreeze($value)) : nfreeze($value);
        my %op = $frame
          ? (encode => sub { my $b = pack('SL/a*', 0x4005, nfreeze($value)) },
             decode => sub { my ($op, $payload) = unpack('SL/a*', $wire); my $v = thaw($payload) })
          : (encode => sub { my $b = nfreeze($value) },
             decode => sub { my $v = thaw($wire) });
        $ns{"$name $_"} = rate($op{$_}) for qw(encode decode);
    }
    return \%ns;
}

# go_round runs the Go benchmarks once; it returns {"case op" => ns}.
sub go_round {
    my $bt = "${seconds}s";
    my @cmd = ('go', 'test', '-run', '^$', '-bench', '^Benchmark(Encode|Decode|DecodeAlias|DecodeLeanHeap)$',
        '-benchmem', '-cpu', '1', '-benchtime', $bt, './storable');
    open my $out, '-|', @cmd or die "go test: $!";
    my %ns;
    while (<$out>) {
        next unless m{^Benchmark(Encode|Decode|DecodeAlias|DecodeLeanHeap)/(\S+)\s+\d+\s.*?([\d.]+) cpu-ns/op};
        my %op = (Encode => 'encode', Decode => 'decode', DecodeAlias => 'decode (AliasInput)',
            DecodeLeanHeap => 'decode (lean heap)');
        $ns{"$2 $op{$1}"} = $3;
    }
    close $out or die "go test failed\n";
    return \%ns;
}

sub best ($into, $from) {
    for (keys %$from) {
        $into->{$_} = $from->{$_} if !defined $into->{$_} || $from->{$_} < $into->{$_};
    }
}

my (%perl, %go);
for my $round (1 .. $rounds) {
    best(\%perl, perl_round());
    best(\%go, go_round()) if $with_go;
}

my %bytes = map { my ($n, $v, $f) = @$_; ($n => length($f ? pack('SL/a*', 1, nfreeze($v)) : nfreeze($v))) } @cases;
if (!$with_go) {
    printf "%-14s %-7s %12s %12s %9s\n", qw(case op ns/op ops/s bytes);
    for my $c (@cases) {
        for my $op (qw(encode decode)) {
            my $ns = $perl{"$c->[0] $op"};
            printf "%-14s %-7s %12.1f %12.0f %9d\n", $c->[0], $op, $ns, 1e9 / $ns, $bytes{ $c->[0] };
        }
    }
    exit;
}

sub human ($ns) {
    return sprintf '%.0f ns', $ns if $ns < 1e4;
    return sprintf '%.1f µs', $ns / 1e3 if $ns < 1e7;
    return sprintf '%.1f ms', $ns / 1e6;
}

binmode STDOUT, ':utf8';
print "| case | bytes | operation | Perl | Go | Perl / Go |\n|---|---:|---|---:|---:|---:|\n";
for my $c (@cases) {
    my $name = $c->[0];
    for my $op ('encode', 'decode', 'decode (AliasInput)', 'decode (lean heap)') {
        my $g = $go{"$name $op"} // next;
        my $p = $perl{ "$name " . ($op =~ /^decode/ ? 'decode' : 'encode') };
        printf "| %s | %d | %s | %s | %s | %.1f |\n", $name, $bytes{$name}, $op, human($p), human($g), $p / $g;
    }
}
