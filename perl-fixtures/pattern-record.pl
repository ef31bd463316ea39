#!/usr/bin/perl
# Records what the real Net::IMP::Pattern does, for the tests of the Go
# plugin "pattern" (plugin/pattern): configurations x inputs x chunkings,
# run in-process (new_factory, new_analyzer, data, results through the
# callback) by ImpFixture::Plugin::Run. Regenerate with
#
#   PERL5LIB=<p5-net-imp>/lib:perl-fixtures/lib PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 \
#     perl perl-fixtures/pattern-record.pl > plugin/pattern/testdata/recordings.json
#
# (the fixed hash seed only fixes the order of keys in Net::IMP's
# "unexpected config keys" message).
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use ImpFixture::Plugin::Run qw(run_case write_recording);

my $STREAM = -1;
my $PACKET = 1;

# Configurations, each with the inputs that show what it does.
my @configs = (
    [ 'deny string',       'string=secret&action=deny&actdata=found secret',   [qw(text two_dirs eof_long short after_deny deny_long_tail packets mixed_types)] ],
    [ 'deny rx, empty actdata', 'rx=se[c]ret&rxlen=6&action=deny&actdata=',    [qw(text packets)] ],
    [ 'reject',            'string=secret&action=reject&actdata=go away',      [qw(text two_dirs packets mixed_types)] ],
    [ 'reject, no reply',  'string=secret&action=reject&actdata=',             [qw(text packets)] ],
    [ 'replace string',    'string=secret&action=replace&actdata=XXXX',        [qw(text two_dirs eof_long packets after_deny)] ],
    [ 'replace rx longer than rxlen', 'rx=\d+&rxlen=4&action=replace&actdata=N', [qw(digits packets_digits)] ],
    [ 'deny rx min length above rxlen', 'rx=ab{3,}&rxlen=3&action=deny&actdata=b', [qw(abbb)] ],
    [ 'replace rx within rxlen', 'rx=\d{2,8}&rxlen=3&action=replace&actdata=D', [qw(digits)] ],
    [ 'replace rx lazy',   'rx=a.{0,3}?b&rxlen=5&action=replace&actdata=[ab]', [qw(ab)] ],
    [ 'replace rx alternation', 'rx=(?i)foo|foobar&rxlen=6&action=replace&actdata=F', [qw(foo)] ],
    [ 'replace rx high bytes', 'rx=x[\x80-\xff]+y&rxlen=4&action=replace&actdata=Z', [qw(high)] ],
    [ 'replace utf-8 string', "string=caf\xc3\xa9&action=replace&actdata=tea", [qw(high)] ],
    [ 'rxdir 0',           'string=ab&rxdir=0&action=replace&actdata=Q',       [qw(ab_two_dirs)] ],
    [ 'rxdir 1',           'string=ab&rxdir=1&action=deny&actdata=d',          [qw(ab_two_dirs)] ],
    [ 'eventlib accepted', 'string=ab&action=deny&actdata=x&eventlib=any',     [qw(ab)] ],
);

# Inputs: [dir, type, data] in order; data '' is the end of dir.
my %inputs = (
    text       => [ [ 0, $STREAM, 'xx secret yy secret zz' ], [ 0, $STREAM, '' ] ],
    two_dirs   => [ [ 0, $STREAM, 'hello sec' ], [ 1, $STREAM, 'the secret reply' ], [ 0, $STREAM, 'ret world' ],
                    [ 1, $STREAM, '' ], [ 0, $STREAM, '' ] ],
    eof_long   => [ [ 0, $STREAM, 'no match here at all, long enough' ], [ 0, $STREAM, '' ] ],
    short      => [ [ 0, $STREAM, 'abc' ], [ 0, $STREAM, '' ] ],
    after_deny => [ [ 0, $STREAM, 'secret' ], [ 0, $STREAM, 'more secret and secret' ], [ 0, $STREAM, '' ] ],
    deny_long_tail => [ [ 0, $STREAM, 'a secret and a long tail' ], [ 0, $STREAM, '' ] ],
    packets    => [ [ 0, $PACKET, 'a secret packet' ], [ 0, $PACKET, 'none' ], [ 0, $PACKET, 'secretsecret' ],
                    [ 1, $PACKET, 'secret' ], [ 0, $PACKET, '' ] ],
    mixed_types => [ [ 0, $STREAM, 'abcsec' ], [ 0, $PACKET, 'ret' ], [ 0, $STREAM, 'secret' ], [ 0, -2, 'xy' ],
                    [ 0, -2, 'secret!' ], [ 0, $STREAM, 'ab' ], [ 0, $STREAM, '' ] ],
    digits     => [ [ 0, $STREAM, 'a12345678b99c1' ], [ 0, $STREAM, '' ] ],
    packets_digits => [ [ 0, $PACKET, 'x123456y' ], [ 0, $PACKET, '7' ] ],
    abbb       => [ [ 0, $STREAM, 'xabbbbby abbb' ], [ 0, $STREAM, '' ] ],
    ab         => [ [ 0, $STREAM, 'a12b a1234b axb ab' ], [ 0, $STREAM, '' ] ],
    foo        => [ [ 0, $STREAM, 'FOObar foobar fo' ], [ 0, $STREAM, '' ] ],
    high       => [ [ 0, $STREAM, "x\x80\xffy x\xc3\xa9y caf\xc3\xa9 caf\xe9" ], [ 0, $STREAM, '' ] ],
    ab_two_dirs => [ [ 0, $STREAM, 'xaby' ], [ 1, $STREAM, 'abab' ], [ 0, $STREAM, '' ], [ 1, $STREAM, '' ] ],
);

# Chunkings: how the data of each stream input is cut into data calls.
# Packets are never cut (each data call is one packet).
my @chunkings = (
    [ whole => 0 ], [ bytes => 1 ], [ size2 => 2 ], [ size3 => 3 ], [ size5 => 5 ], [ size7 => 7 ],
);

sub steps ($input, $size) {
    my @steps;
    for my $in (@$input) {
        my ($dir, $type, $data) = @$in;
        my @parts = ($data eq '' || $type > 0 || !$size) ? ($data) : ($data =~ /(.{1,$size})/gs);
        push @steps, map { { dir => $dir, type => $type, offset => 0, data_hex => unpack('H*', $_) } } @parts;
    }
    return \@steps;
}

my @cases;
for my $c (@configs) {
    my ($name, $config, $inputs) = @$c;
    for my $in (@$inputs) {
        for my $ch (@chunkings) {
            push @cases, {
                name    => "$name / $in / $ch->[0]",
                factory => { plugin => 'Net::IMP::Pattern', config => $config },
                steps   => steps($inputs{$in}, $ch->[1]),
            };
        }
    }
}

# Data with an offset: Perl dies ("cannot deal with gaps in data").
push @cases, {
    name    => 'offset given',
    factory => { plugin => 'Net::IMP::Pattern', config => 'string=ab&action=deny&actdata=x' },
    steps   => [ { dir => 0, type => $STREAM, offset => 0, data_hex => unpack('H*', 'xyz') },
                 { dir => 0, type => $STREAM, offset => 10, data_hex => unpack('H*', 'ab') } ],
};

# The interface, and set_interface.
for my $act (qw(deny reject replace)) {
    push @cases, {
        name      => "interface $act",
        factory   => { plugin => 'Net::IMP::Pattern', config => "string=x&action=$act&actdata=y" },
        interface => { offered => [] },
    }, {
        name      => "interface $act offered",
        factory   => { plugin => 'Net::IMP::Pattern', config => "string=x&action=$act&actdata=y" },
        interface => { offered => [ [ $STREAM, [ 0x1001, 0x1100 ] ], [ $PACKET, [ 0x1001, 0x1011, 0x1010 ] ], [ undef, [] ] ],
                       set => [ $STREAM, [ 0x1001, 0x1011, 0x1010, 0x1100 ] ] },
    };
}

# Configurations and what validate_cfg says about them.
for my $cfg (
    'string=secret&action=deny&actdata=x',
    'string=secret&action=deny',
    'string=secret&action=deny&actdata',
    'string=secret&actdata=x',
    'string=secret&action=drop&actdata=x',
    'rx=a+&action=deny&actdata=x',
    'rx=a+&rxlen=0&action=deny&actdata=x',
    'rx=a+&rxlen=x3&action=deny&actdata=x',
    'rx=a+&rxlen=007&action=deny&actdata=x',
    'rx=a*&rxlen=3&action=deny&actdata=x',
    'rx=(&rxlen=3&action=deny&actdata=x',
    'rx=a&rxlen=1&string=b&action=deny&actdata=x',
    'rx=0&rxlen=3&action=deny&actdata=x',
    'rx=&string=s&action=deny&actdata=x',
    'rxlen=3&string=s&action=deny&actdata=x',
    'action=deny&actdata=x',
    'string=s&rxdir=2&action=deny&actdata=x',
    'string=s&rxdir=1&action=deny&actdata=x',
    'string=s&action=deny&actdata=x&foo=1&bar',
    'rx=a&rxlen=0&string=b&rxdir=2&action=foo&bar=1&baz',
    'string=s&rxdir=abc&action=deny&actdata=x',
    'string=&action=deny&actdata=x',
    'rx=\b&rxlen=3&action=deny&actdata=x',
) {
    push @cases, { name => "config $cfg", factory => { plugin => 'Net::IMP::Pattern', config => $cfg } };
}

write_recording(\*STDOUT, { script => 'perl-fixtures/pattern-record.pl', output => 'plugin/pattern/testdata/recordings.json' }, map { run_case($_) } @cases);
