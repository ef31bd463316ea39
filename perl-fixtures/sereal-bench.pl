#!/usr/bin/perl
# Perl's side of the Sereal benchmarks: Sereal::Encoder and Sereal::Decoder
# (XS, default options: protocol 5) on the cases of sereal/bench_test.go,
# built the same way:
#
#   rpc_64B ... rpc_256KiB  a data RPC of Net::IMP::Remote, [op, id, dir,
#                           offset, type, data], encoded as its Sereal wire
#                           does (encode([$op, @args])) and decoded
#   nested_1MB              8300 records of hashes, arrays and strings,
#                           about 1 MB encoded
#
#   perl perl-fixtures/sereal-bench.pl [--seconds S] [--rounds N] [--go]
#
# Times are CPU time per operation (the Go benchmarks report the same as
# cpu-ns/op): other load on a shared machine inflates it less than wall
# time. Each operation runs for S seconds of CPU (default 1); of N rounds
# (default 3) the fastest counts. Without --go it prints Perl's numbers;
# with --go (from the repository root) every round also runs the Go
# benchmarks (go test -bench, one CPU like Perl) right after Perl's, and
# it prints the Markdown table of docs/benchmarks.md with the ratio
# Perl / Go (above 1: Go is faster).
use v5.36;
use utf8;
use Sereal::Encoder;
use Sereal::Decoder;
use Getopt::Long qw(GetOptions);

my ($seconds, $rounds, $go) = (1, 3, 0);
GetOptions('seconds=f' => \$seconds, 'rounds=i' => \$rounds, go => \$go)
  or die "usage: $0 [--seconds S] [--rounds N] [--go]\n";

my $enc = Sereal::Encoder->new;
my $dec = Sereal::Decoder->new;

sub rpc_args ($n) {
    my $data = join '', map { chr(($_ * 7) & 0xff) } 0 .. $n - 1;
    return [1234, 0, 0, -1, $data];
}

sub nested {
    my @items;
    for my $i (1 .. 8300) {
        push @items, {
            id       => $i,
            name     => "item number $i",
            score    => $i * 0.25 + 0.1,
            active   => $i % 2,
            tags     => ['alpha', 'b' x ($i % 23), "gr\x{fc}\x{df}e"],
            children => [map { { key => "child-$_", value => $i * $_ } } 1 .. 3],
        };
    }
    return \@items;
}

# Each case: name, the encoding to time, the document to decode.
my @cases;
for my $n (64, 1 << 10, 16 << 10, 256 << 10) {
    my $args = rpc_args($n);
    my $name = 'rpc_' . ($n < 1024 ? "${n}B" : ($n >> 10) . 'KiB');
    push @cases, [$name, sub { $enc->encode([0x4005, @$args]) }];
}
my $nested = nested();
push @cases, ['nested_1MB', sub { $enc->encode($nested) }];
push @$_, $_->[1]->() for @cases;

sub cpu_seconds { my ($user, $system) = times; return $user + $system }

# ns_per_op runs $op for $seconds of CPU time: nanoseconds per call.
sub ns_per_op ($op) {
    my ($calls, $batch, $start, $used) = (0, 1, cpu_seconds(), 0);
    while ($used < $seconds) {
        $op->() for 1 .. $batch;
        $calls += $batch;
        $batch *= 2 if $batch < 65536;
        $used = cpu_seconds() - $start;
    }
    return $used * 1e9 / $calls;
}

sub perl_times {
    my %t;
    for my $c (@cases) {
        my ($name, $encode, $doc) = @$c;
        $t{"$name encode"} = ns_per_op($encode);
        $t{"$name decode"} = ns_per_op(sub { $dec->decode($doc) });
    }
    return \%t;
}

sub go_times {
    my @cmd = ('go', 'test', '-run', '^$', '-bench', '^Benchmark(Encode|Decode|DecodeAlias|DecodeArrayRef|DecodeLeanHeap)$',
        '-cpu', '1', '-benchtime', "${seconds}s", './sereal');
    open my $out, '-|', @cmd or die "go test: $!\n";
    my %t;
    my %op = (Encode => 'encode', Decode => 'decode', DecodeAlias => 'decode (AliasInput)',
        DecodeArrayRef => 'decode (UnmarshalArrayRef, AliasInput)', DecodeLeanHeap => 'decode (lean heap)');
    while (my $line = <$out>) {
        $t{"$2 $op{$1}"} = $3 if $line =~ m{^Benchmark(\w+)/(\S+)\s.*?([\d.]+) cpu-ns/op};
    }
    close $out or die "go test failed\n";
    return \%t;
}

sub keep_fastest ($best, $new) {
    $best->{$_} = $new->{$_} for grep { !defined $best->{$_} || $new->{$_} < $best->{$_} } keys %$new;
}

my (%perl, %golang);
for (1 .. $rounds) {
    keep_fastest(\%perl, perl_times());
    keep_fastest(\%golang, go_times()) if $go;
}

sub duration ($ns) {
    return sprintf('%.0f ns', $ns) if $ns < 1e4;
    return sprintf('%.1f µs', $ns / 1e3) if $ns < 1e7;
    return sprintf('%.1f ms', $ns / 1e6);
}

binmode STDOUT, ':utf8';
if (!$go) {
    printf "%-12s %-7s %10s %12s %9s\n", qw(case op bytes ns/op MB/s);
    for my $c (@cases) {
        my $bytes = length $c->[2];
        for my $op (qw(encode decode)) {
            my $ns = $perl{"$c->[0] $op"};
            printf "%-12s %-7s %10d %12.1f %9.1f\n", $c->[0], $op, $bytes, $ns, $bytes / $ns * 1e3;
        }
    }
    exit 0;
}
print "| case | bytes | operation | Perl | Go | Perl / Go |\n|---|---:|---|---:|---:|---:|\n";
for my $c (@cases) {
    for my $op ('encode', 'decode', 'decode (AliasInput)', 'decode (UnmarshalArrayRef, AliasInput)', 'decode (lean heap)') {
        my $g = $golang{"$c->[0] $op"} // next;
        my $p = $perl{"$c->[0] " . ($op eq 'encode' ? 'encode' : 'decode')};
        printf "| %s | %d | %s | %s | %s | %.1f× |\n", $c->[0], length $c->[2], $op, duration($p), duration($g), $p / $g;
    }
}
