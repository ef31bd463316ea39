#!/usr/bin/perl
# Writes the seed corpus of the Storable fuzz targets: images made by
# Perl's own Storable, in the file format of Go's fuzzing engine.
#
#   cd perl-fixtures && perl storable-corpus.pl ../storable/testdata/fuzz/FuzzDecode
#
# Every case is frozen with nfreeze and freeze; a few also with nstore and
# store (file images with the "pst0" magic). Hashes are written with
# $Storable::canonical set, so that the files regenerate identically. The
# storable package's tests also read these files: each must decode, and
# encode again to the same bytes.
use v5.36;
use utf8;
use Storable qw(nfreeze freeze nstore store);
use Scalar::Util qw(weaken dualvar);
use Hash::Util qw(lock_keys lock_hash);
use File::Temp qw(tempdir);
BEGIN { require './storable-classes.pl' }

my $dir = shift // die "usage: $0 DIR\n";
-d $dir or die "$dir: not a directory\n";
$Storable::canonical = 1;

sub holes { my @a; $a[3] = 'x'; return \@a }
sub alias { return \@_ }

my @cases = (
    [ undef_ref       => sub { \undef } ],
    [ undef_copy      => sub { [undef] } ],
    [ yes_no          => sub { [ \!!1, \!!0 ] } ],
    [ bool_copies     => sub { [ !!1, !!0 ] } ],
    [ holes           => \&holes ],
    [ svundef_elem    => sub { alias(undef, 1) } ],
    [ bytes_int       => sub { [ -128, 127, -129, 128, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**62, -2**63, 18446744073709551615 ] } ],
    [ doubles         => sub { [ 0.5, -1.25, 0.1, 1 / 3, 1e300, -1e-300, 2**53, 2**63, 9**9**9, -9**9**9, 1e15 + 0.5 ] } ],
    [ nan             => sub { \(9**9**9 / 9**9**9) } ],
    [ strings         => sub { [ '', 'a', "caf\xe9", "\x{263a}", "\x{1F600}", 'x' x 255, 'y' x 256 ] } ],
    [ long_utf8       => sub { \("\x{263a}" x 100) } ],
    [ dualvar         => sub { [ dualvar(5, 'five') ] } ],
    [ vstrings        => sub { [ v1.2.3, v1.22.333.4444 ] } ],
    [ long_vstring    => sub { my $v = eval 'v' . join('.', (1) x 130); \$v } ],
    [ utf8_vstring    => sub { [ v9786.65 ] } ],
    [ scalar_refs     => sub { [ \'a', \\'b', \\\'c' ] } ],
    [ hash            => sub { { a => 1, b => [2], c => { d => undef } } } ],
    [ hash_utf8_keys  => sub { { "\x{263a}" => 1, "caf\xe9" => 2, plain => 3 } } ],
    [ hash_wasutf8    => sub { my $k = "\xe9t\xe9"; utf8::upgrade($k); my %h = ($k => 1, b => 2); \%h } ],
    [ restricted      => sub { my %h = (a => 1, b => 2); lock_keys(%h, qw(a b c)); \%h } ],
    [ locked          => sub { my %h = (a => 1, b => [2]); lock_hash(%h); \%h } ],
    [ empty           => sub { [ [], {}, \'' ] } ],
    [ nested          => sub { [ [ [ [ [1] ] ] ], { a => { b => { c => [] } } } ] } ],
    [ shared          => sub { my $a = [1]; my $h = { x => $a }; [ $a, $a, $h, $h ] } ],
    [ cycle_scalar    => sub { my $x; $x = \$x; \$x } ],
    [ cycle_array     => sub { my @a = (1); push @a, \@a; \@a } ],
    [ cycle_hash      => sub { my %h; $h{self} = \%h; \%h } ],
    [ elem_ref        => sub { my @a = (7, 8); [ \@a, \$a[1] ] } ],
    [ alias_elems     => sub { my $x = 'same'; alias($x, $x) } ],
    [ weak            => sub { my $a = [1]; my $r = [ $a, $a ]; weaken($r->[1]); $r } ],
    [ blessed         => sub { [ bless({ a => 1 }, 'Foo'), bless([], 'Foo'), bless(\(my $s = 'x'), 'Bar'), bless(\(my $r = []), 'Baz') ] } ],
    [ blessed_long    => sub { bless [], 'A::' . ('Long' x 40) } ],
    [ many_classes    => sub { [ (map { bless [], "C$_" } 1 .. 130), bless([], 'C130') ] } ],
    [ overload        => sub { [ StOverload->new(1), StOverload->new(2) ] } ],
    [ weak_overload   => sub { my $o = StOverload->new(3); my $r = [ $o, $o ]; weaken($r->[1]); $r } ],
    [ regexps         => sub { [ qr/a.b/, qr/x/imsx, qr/\x{263a}/, qr/caf\xe9/i ] } ],
    [ regexp_long     => sub { my $p = 'a' x 300; qr/$p/ } ],
    [ regexp_blessed  => sub { bless qr/z/, 'MyRe' } ],
    [ hook_simple     => sub { StHook->new(f => 'frozen') } ],
    [ hook_refs       => sub { my $s = [ 1, 2 ]; [ StHook->new(f => 'one', r => [ $s, \'sc' ]), StHook->new(f => 'two', r => [$s]), $s ] } ],
    [ hook_self       => sub { my $h = StHook->new(f => 'self'); $h->{r} = [$h]; $h } ],
    [ hook_array      => sub { [ StHookArray->new('a', \'x'), StHookArray->new('b') ] } ],
    [ hook_scalar     => sub { [ StHookScalar->new('s'), StHookScalar->new('t') ] } ],
    [ hook_large      => sub { StHook->new(f => 'z' x 300, r => [ map { [$_] } 1 .. 300 ]) } ],
    [ hook_nested     => sub { StHook->new(f => 'outer', r => [ StHook->new(f => 'inner', r => [ {} ]) ]) } ],
    [ hook_class_idx  => sub { [ (map { bless [], "K$_" } 1 .. 260), StHook->new(f => 1), StHook->new(f => 2) ] } ],
    [ imp_data_rpc    => sub { [ 1, 0, 0, -1, 'GET / HTTP/1.0' . "\r\n" x 2 ] } ],
    [ imp_context     => sub { [ 1, { meta => { caddr => '192.0.2.10', cport => 40001, laddr => '192.0.2.1', lport => '3000' } } ] } ],
);

my @files = qw(hash blessed hook_refs imp_context cycle_array);
my $tmp = tempdir(CLEANUP => 1);
my $n = 0;
for my $case (@cases) {
    my ($name, $make) = @$case;
    my $v = $make->();
    my %img = (nfreeze => nfreeze($v), freeze => freeze($v));
    if (grep { $_ eq $name } @files) {
        nstore($v, "$tmp/n") or die "nstore: $!";
        store($v, "$tmp/s") or die "store: $!";
        $img{nstore} = slurp("$tmp/n");
        $img{store} = slurp("$tmp/s");
    }
    for my $how (sort keys %img) {
        write_seed("$dir/perl-$name-$how", $img{$how});
        $n++;
    }
}
print "wrote $n seeds to $dir\n";

sub slurp ($path) {
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# Go's corpus file format: a header line, then []byte("...") with Go escapes.
sub write_seed ($path, $bytes) {
    my $q = join '', map {
        my $c = ord;
        $c == 0x22 ? '\\"' : $c == 0x5c ? '\\\\' : ($c >= 0x20 && $c < 0x7f) ? chr $c : sprintf('\\x%02x', $c)
    } split //, $bytes;
    open my $fh, '>:raw', $path or die "$path: $!";
    print {$fh} "go test fuzz v1\n[]byte(\"$q\")\n";
    close $fh or die "$path: $!";
}
