#!/usr/bin/perl
# Perl's Sereal::Encoder and Sereal::Decoder for the Go conformance suite
# of package sereal (conformance/sereal), over the line protocol of
# ImpFixture::Loop. Documents travel as hex, Perl values as tagged JSON.
#
# Requests (every one takes "opts", the options of Sereal::Encoder->new;
# "compress" is 0 none, 1 Snappy, 2 zlib, 3 zstd as the SRL_* constants):
#
#   {"op":"corpus","opts":{...}}
#       -> {"docs":[{"name":..., "hex":..., "json":..., "error":...}]}
#       The values of corpus() below, built in Perl (shared and weak
#       references, aliases, booleans, UTF-8 and byte strings, objects,
#       regexps ...), each encoded with opts. "json" is what Perl's own
#       decoder makes of the document, "error" set when it cannot read it.
#   {"op":"random","seed":N,"count":N,"opts":{...}}
#       -> {"docs":[{"hex":..., "json":...}]}
#       Random nested structures made by Perl (srand(seed)).
#   {"op":"decode","docs":["hex", ...],"reencode":{...}}
#       -> {"values":[json|null], "errors":[""|msg], "reencoded":["hex"]}
#       Perl's decoding of each document, and when "reencode" holds
#       options, the decoded value encoded again with them.
#
# With the argument --corpus it prints the corpus for the Go unit tests
# instead (PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 perl
# perl-fixtures/sereal-helper.pl --corpus >
# sereal/testdata/perl-documents.json): every value of corpus() with each
# set of options of corpus_options().

use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use Scalar::Util qw(weaken);
use Sereal::Encoder 5.0 qw(SRL_SNAPPY SRL_ZLIB SRL_ZSTD);
use Sereal::Decoder 5.0;
use JSON::PP ();
use ImpFixture::Loop qw(run_loop);
use ImpFixture::TaggedJSON qw(to_tagged_json);

no warnings qw(portable);

# A class with FREEZE/THAW hooks (freeze_callbacks).
package ImpFixture::SerealFrozen {
    sub new ($class, @args) { return bless {args => [@args]}, $class }
    sub FREEZE ($self, $serializer) { return @{ $self->{args} } }
    sub THAW ($class, $serializer, @args) { return $class->new(@args) }
}

# The named values of the corpus. Each is made fresh by its sub, so that
# reference counts are what a program holding only the value has.
sub corpus {
    my @v;
    my $add = sub ($name, $make) { push @v, [$name, $make] };
    # Scalars.
    $add->(undef => sub { undef });
    $add->(ref_undef => sub { \undef });
    $add->(true => sub { !!1 });
    $add->(false => sub { !!0 });
    $add->(ref_true => sub { \!!1 });
    $add->(ref_false => sub { \!!0 });
    $add->(bools => sub { [!!1, !!0, { t => !!1 }] });
    $add->(ints => sub { [0, 1, 15, 16, 127, 128, -1, -16, -17, -128, 2**31, -2**31, 2**32 + 1, 2**53, 9223372036854775807, -9223372036854775808] });
    $add->(uint_max => sub { 18446744073709551615 });
    $add->(doubles => sub { [0.5, 0.1, -0.0, 3.0, 1e300, -1.5e-300, 2**53 + 0.0, 1/3] });
    $add->(infinities => sub { [9**9**9, -9**9**9] });
    $add->(nan => sub { [9**9**9 / 9**9**9] });
    $add->(strings => sub { ['', 'a', 'x' x 31, 'x' x 32, 'y' x 200, "\0\x01\xff", "123", "1.5", " 12", "007"] });
    $add->(latin1_bytes => sub { "caf\xe9" });
    $add->(latin1_upgraded => sub { my $s = "caf\xe9"; utf8::upgrade($s); $s });
    $add->(utf8 => sub { ["\x{263a}", "\x{1F600} smile", "J\x{fc}rgen \x{263a}"] });
    $add->(long_string => sub { join '', map { chr(32 + $_ % 90) } 1 .. 5000 });
    $add->(vstring => sub { v1.22.333 });
    # References.
    $add->(ref_scalar => sub { \"a" });
    $add->(ref_ref => sub { \\"a" });
    $add->(ref_int => sub { \42 });
    $add->(empty_array => sub { [] });
    $add->(array15 => sub { [1 .. 15] });
    $add->(array16 => sub { [1 .. 16] });
    $add->(nested_arrays => sub { [[1, [2, [3, []]]], [[[[4]]]]] });
    $add->(empty_hash => sub { +{} });
    $add->(hash => sub { +{ a => 1, b => [2], c => { d => undef } } });
    $add->(hash16 => sub { +{ map { ("key$_" => $_) } 1 .. 16 } });
    $add->(repeated_keys => sub { [map { +{ id => $_, name => "n$_", tags => { id => $_ } } } 1 .. 5] });
    $add->(utf8_keys => sub { +{ "\x{263a}" => 1, "caf\x{e9}" => 2, "plain" => 3 } });
    $add->(latin1_keys => sub { +{ "caf\xe9" => 1, "\xff" => 2 } });
    $add->(holes => sub { my @a; $#a = 3; $a[2] = 'x'; \@a });
    $add->(deep => sub { my $d = 'bottom'; $d = [$d] for 1 .. 60; $d });
    $add->(big_array => sub { [map { $_ * 7 - 3000 } 1 .. 1000] });
    $add->(imp_data_rpc => sub { [0x4005, 1, 0, 0, -1, "GET / HTTP/1.0\r\n\r\n"] });
    # Objects.
    $add->(blessed_hash => sub { bless { a => 1 }, 'Foo' });
    $add->(blessed_arrays => sub { [bless([1], 'Foo::Bar'), bless([2], 'Foo::Bar'), bless({}, 'Other')] });
    $add->(blessed_scalar => sub { bless \(my $s = 'x'), 'Scalar::Thing' });
    $add->(utf8_class => sub { bless [], "Caf\x{e9}::\x{263a}" });
    # Regexps.
    $add->(regexp => sub { qr/a.c/ });
    $add->(regexp_flags => sub { [qr/^a/m, qr/b/s, qr/c/i, qr/d e/x, qr/f/msix, qr/g/p, qr/h/xx] });
    $add->(regexp_utf8 => sub { [qr/\x{263a}/, qr/\x{263a}+/i] });
    $add->(regexp_latin1 => sub { my $p = "caf\xe9"; qr/$p/ });
    $add->(regexp_blessed => sub { bless qr/x/, 'My::Re' });
    # Identity.
    $add->(shared_array => sub { my $x = [1]; [$x, $x] });
    $add->(shared_hash => sub { my $x = { k => 'v' }; { a => $x, b => $x } });
    $add->(shared_scalar => sub { my $s = 5; [\$s, \$s] });
    $add->(shared_blessed => sub { my $o = bless [], 'Obj'; [$o, $o, bless({}, 'Obj')] });
    $add->(cycle_array => sub { my $c = []; push @$c, $c, 1; $c });
    $add->(cycle_hash => sub { my $h = {}; $h->{self} = $h; $h });
    $add->(cycle_scalar => sub { my $x; $x = \$x; [$x] });
    $add->(alias_element => sub { my @a = (7); [\$a[0], \@a] });
    $add->(alias_hash_value => sub { my %h = (k => 'v'); [\$h{k}, \%h] });
    $add->(weak_and_strong => sub { my $h = { a => 1 }; my $a = [$h, $h]; weaken($a->[1]); $a });
    $add->(weak_first => sub { my $h = { a => 1 }; my $a = [$h, $h]; weaken($a->[0]); $a });
    $add->(weak_only => sub { my $h = { a => 1 }; my $a = [$h, $h]; weaken($a->[0]); weaken($a->[1]); $a });
    $add->(weak_blessed => sub { my $o = bless { x => 1 }, 'W'; my $a = [$o, $o]; weaken($a->[0]); $a });
    $add->(dedupe_ref_target => sub { ["abcd", \"abcd", "abcd"] });
    $add->(dedupe_candidates => sub { [("abcd") x 3, ["abcd", "efgh", "efgh"], { k => "abcd" }] });
    $add->(frozen => sub { [ImpFixture::SerealFrozen->new(1, 'two'), ImpFixture::SerealFrozen->new([3])] });
    return @v;
}

# Sets of encoder options for the corpus file: every protocol version,
# every compression, and the other options that change the bytes.
sub corpus_options {
    return (
        {},
        (map { { protocol_version => $_ } } 1 .. 4),
        { compress => SRL_SNAPPY, compress_threshold => 0 },
        { compress => SRL_ZLIB, compress_threshold => 0 },
        { compress => SRL_ZSTD, compress_threshold => 0 },
        { compress => SRL_SNAPPY, compress_threshold => 0, protocol_version => 2 },
        { snappy => 1, compress_threshold => 0, protocol_version => 1 },
        { snappy_incr => 1, compress_threshold => 0, protocol_version => 1 },
        { canonical => 1 },
        { sort_keys => 2 },
        { sort_keys => 3, canonical_refs => 1 },
        { dedupe_strings => 1 },
        { aliased_dedupe_strings => 1 },
        { no_shared_hashkeys => 1 },
        { freeze_callbacks => 1 },
    );
}

sub encoder ($opts) {
    return Sereal::Encoder->new({ %{ $opts // {} } });
}

# A new decoder for every document: Sereal::Decoder (5.003 to 5.009) keeps
# the FREEZE/THAW objects of a document in a table it never clears, and a
# decoder used again after such a document can corrupt memory on a later
# REFP. FREEZE/THAW objects stay as the data FREEZE returned, which is all
# the Go decoder can give back (as Sereal::Decoder::THAW_args).
sub decoder () {
    return Sereal::Decoder->new({ no_thaw_objects => 1 });
}

# perl_view returns what Perl's decoder makes of a document, as tagged JSON,
# or dies with its message.
sub perl_view ($doc) {
    my $v = decoder()->decode($doc);
    return to_tagged_json($v);
}

sub encode_corpus ($opts) {
    my @docs;
    my $enc = encoder($opts);
    for my $c (corpus()) {
        my ($name, $make) = @$c;
        my $doc = $enc->encode(scalar $make->());
        my %d = (name => $name, hex => unpack('H*', $doc));
        my $json = eval { perl_view($doc) };
        if (defined $json) {
            $d{json} = $json;
        } else {
            ($d{error} = $@) =~ s/\s+\z//;
        }
        push @docs, \%d;
    }
    return \@docs;
}

# ---- random structures ----------------------------------------------------

my @words = ('', 'a', 'key', 'id', 'meta', "caf\xe9", "\x{263a}", 'x' x 40, "\x{1F600}", '0', '12', 'pass');

sub random_string {
    my $r = rand;
    return $words[int rand @words] if $r < 0.5;
    my $n = int rand 40;
    if ($r < 0.75) {
        return join '', map { chr int rand 256 } 1 .. $n;    # bytes
    }
    my $s = join '', map { chr(int rand 2 ? int rand 0x800 : 0x10000 + int rand 0x1000) } 1 .. $n;
    utf8::upgrade($s);
    return $s;
}

sub random_scalar {
    my $r = int rand 12;
    return undef if $r == 0;
    return !!(rand 2 < 1) if $r == 1;
    return int(rand 32) - 16 if $r == 2;
    return int(rand 2**40) - 2**39 if $r == 3;
    return (-9223372036854775808, 9223372036854775807, 18446744073709551615, 2**32)[int rand 4] if $r == 4;
    return (0.5, -1.25, 0.1, 1e100, -0.0, 1/7)[int rand 6] if $r == 5;
    return random_string();
}

# random_value makes a value; @$pool holds references made so far, which
# later values may share (and weakly reference, when something else holds
# them strongly).
sub random_value ($depth, $pool) {
    my $r = rand;
    if ($depth <= 0 || $r < 0.35) {
        return random_scalar();
    }
    if ($r < 0.42 && @$pool) {
        return $pool->[int rand @$pool];    # shared
    }
    my $ref;
    if ($r < 0.62) {
        $ref = [map { random_value($depth - 1, $pool) } 1 .. int rand 6];
    } elsif ($r < 0.8) {
        $ref = { map { (random_string() => random_value($depth - 1, $pool)) } 1 .. int rand 6 };
    } elsif ($r < 0.86) {
        my $s = random_value($depth - 1, $pool);
        $ref = \$s;
    } elsif ($r < 0.9) {
        my @flags = ('', 'i', 'msix', 'x', 'm');
        my $p = ('a+b', '^\d+$', "caf\xe9", "\x{263a}.", '[a-z]{2,3}')[int rand 5];
        my $f = $flags[int rand @flags];
        $ref = eval "qr/\$p/$f";
    } else {
        $ref = [random_scalar(), random_scalar()];
    }
    if (rand() < 0.15) {
        bless $ref, ('Foo', 'Bar::Baz', "Caf\x{e9}")[int rand 3];
    }
    push @$pool, $ref;
    return $ref;
}

sub random_docs ($seed, $count, $opts) {
    srand($seed);
    my $enc = encoder($opts);
    my @docs;
    for (1 .. $count) {
        my @pool;
        my $root = [map { random_value(4, \@pool) } 1 .. 1 + int rand 4];
        # A weak reference to something the root holds strongly.
        if (@pool && rand() < 0.3) {
            push @$root, $pool[int rand @pool];
            weaken($root->[-1]);
        }
        my $doc = $enc->encode($root);
        push @docs, { hex => unpack('H*', $doc), json => perl_view($doc) };
    }
    return \@docs;
}

# ---- decoding documents from Go --------------------------------------------

sub decode_docs ($req) {
    my (@values, @errors, @reencoded);
    my $enc = $req->{reencode} ? encoder($req->{reencode}) : undef;
    for my $hex (@{ $req->{docs} }) {
        my $v = eval { decoder()->decode(pack 'H*', $hex) };
        if (my $err = $@) {
            $err =~ s/\s+\z//;
            push @values, undef;
            push @errors, $err;
            push @reencoded, '';
            next;
        }
        push @values, to_tagged_json($v);
        push @errors, '';
        push @reencoded, $enc ? unpack('H*', $enc->encode($v)) : '';
    }
    return { values => \@values, errors => \@errors, reencoded => \@reencoded };
}

if (@ARGV && $ARGV[0] eq '--corpus') {
    my @out;
    for my $opts (corpus_options()) {
        for my $d (@{ encode_corpus($opts) }) {
            push @out, { %$d, opts => $opts };
        }
    }
    # One document per line, for readable diffs.
    my $json = JSON::PP->new->utf8->canonical;
    print '{"generator":', $json->encode({
        script         => 'perl-fixtures/sereal-helper.pl --corpus',
        perl           => sprintf('%vd', $^V),
        sereal_encoder => $Sereal::Encoder::VERSION,
        sereal_decoder => $Sereal::Decoder::VERSION,
    }), ",\n\"documents\":[\n", join(",\n", map { $json->encode($_) } @out), "\n]}\n";
    exit 0;
}

run_loop({
    corpus => sub ($req) { return { docs => encode_corpus($req->{opts}) } },
    random => sub ($req) { return { docs => random_docs($req->{seed}, $req->{count}, $req->{opts}) } },
    decode => \&decode_docs,
});
