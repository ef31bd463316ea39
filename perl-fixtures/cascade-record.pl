#!/usr/bin/perl
# Records what the real Net::IMP::Cascade does with parts made of the real
# Net::IMP::Pattern and the test plugin ImpFixture::Plugin::EveryResult,
# for the tests of the Go plugin "cascade" (plugin/cascade). Cases where
# Perl's cascade dies are recorded too (the step says "died"); the Go
# tests check the documented fix there. Regenerate with
#
#   PERL5LIB=<p5-net-imp>/lib:perl-fixtures/lib PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 \
#     perl perl-fixtures/cascade-record.pl > plugin/cascade/testdata/recordings.json
#
# (A part that emits pause or continue makes Perl's cascade run out of
# memory, which ends the process: plugin/cascade's tests show that with a
# separate Perl process, not here.)
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use ImpFixture::Plugin::Run qw(run_case write_recording);

my $STREAM = -1;
my $PACKET = 1;

sub pat ($cfg) { return { plugin => 'Net::IMP::Pattern', config => $cfg } }
sub every ($cfg) { return { plugin => 'ImpFixture::Plugin::EveryResult', config => $cfg } }

# steps: [dir, data, type?, offset?] ... ; data '' is the end of dir.
sub steps (@in) {
    return [ map {
        my ($dir, $data, $type, $offset) = @$_;
        { dir => $dir, type => $type // $STREAM, offset => $offset // 0, data_hex => unpack('H*', $data) }
    } @in ];
}

# chunked cuts every stream data into pieces of $size bytes (0: whole).
sub chunked ($size, @in) {
    return @in if !$size;
    return map {
        my ($dir, $data, @rest) = @$_;
        ($data eq '' || ($rest[0] // $STREAM) > 0) ? $_ : map { [ $dir, $_, @rest ] } $data =~ /(.{1,$size})/gs
    } @in;
}

my @cases;

# Chains of Pattern parts, in both directions, chunked in several ways.
my @chains = (
    [ 'replace, replace', [ pat('string=ab&action=replace&actdata=X'), pat('string=cd&action=replace&actdata=Y') ],
      [ [ 0, 'xxabyycdzz' ], [ 1, 'abcd' ], [ 0, '' ], [ 1, 'cdab--ab' ], [ 1, '' ] ] ],
    [ 'replacement matched by the next part', [ pat('rx=x\d+y&rxlen=6&action=replace&actdata=NUM'), pat('string=NUM&action=replace&actdata=<n>') ],
      [ [ 0, 'a x12y b x1234y c NUM d' ], [ 0, '' ], [ 1, 'NUM x9y' ], [ 1, '' ] ] ],
    [ 'growing replacement', [ pat('string=shit&action=replace&actdata=foobar'), pat('rx=foobar &rxlen=7&action=replace&actdata=bingo') ],
      [ [ 0, 'xx shit i shitxx shit ' ], [ 0, '' ] ] ],
    [ 'three parts', [ pat('string=fuck&action=replace&actdata=i'), pat('string=shit&action=replace&actdata=foobar'), pat('string=foobar&action=replace&actdata=bingo') ],
      [ [ 0, 'xx shfuckt fuck shitxx' ], [ 1, 'shit and fuck' ], [ 0, '' ], [ 1, '' ] ] ],
    [ 'deny after replace', [ pat('string=ab&action=replace&actdata=bad'), pat('string=bad&action=deny&actdata=no bad') ],
      [ [ 0, 'xx ab yy bad zz' ], [ 0, '' ] ] ],
    [ 'replace by nothing', [ pat('string=ab&action=replace&actdata='), pat('string=cd&action=replace&actdata=Y') ],
      [ [ 0, 'abcdab cd acbd' ], [ 0, '' ], [ 1, 'cdab' ], [ 1, '' ] ] ],
    [ 'packets', [ pat('string=ab&action=replace&actdata=X'), pat('string=Xc&action=replace&actdata=Z') ],
      [ [ 0, 'abc ab', $PACKET ], [ 0, 'none', $PACKET ], [ 1, 'xabcx', $PACKET ], [ 0, '', $PACKET ] ] ],
    [ 'stream then packet', [ pat('string=ab&action=deny&actdata=d'), pat('string=xy&action=replace&actdata=Q') ],
      [ [ 0, 'xyz x' ], [ 0, 'yab', $PACKET ], [ 0, '' ] ] ],
);
for my $c (@chains) {
    my ($name, $parts, $in) = @$c;
    for my $size (0, 1, 3, 7) {
        push @cases, {
            name    => "$name / " . ($size ? "size$size" : 'whole'),
            factory => { cascade => $parts },
            steps   => steps(chunked($size, @$in)),
        };
    }
}

# Parts that emit other results (EveryResult reacts to words in the data).
push @cases, {
    name    => 'log offsets after a replacement',
    factory => { cascade => [ pat('string=abc&action=replace&actdata=X'), every('results=log,pass') ] },
    steps   => steps([ 0, 'abc abc log pass' ], [ 0, 'more log pass' ], [ 0, '' ], [ 1, 'log pass:max' ]),
}, {
    name    => 'deny, drop, fatal, acctfield go out at once',
    factory => { cascade => [ every('results=pass,acctfield'), every('results=log,deny,drop,fatal,pass') ] },
    steps   => steps([ 0, 'acctfield pass log' ], [ 0, 'deny pass' ], [ 1, 'drop fatal acctfield:int pass' ]),
}, {
    name    => 'prepass',
    factory => { cascade => [ every('results=prepass,pass'), every('results=pass,prepass') ] },
    steps   => steps([ 0, 'prepass' ], [ 0, 'data' ], [ 0, 'pass' ], [ 1, 'prepass:max' ], [ 1, 'more' ], [ 1, '' ]),
}, {
    name    => 'pass to the end by the first part',
    factory => { cascade => [ every('results=pass'), pat('string=ab&action=replace&actdata=X') ] },
    steps   => steps([ 0, 'xab pass:max ab' ], [ 0, 'ab ab' ], [ 0, '' ], [ 1, 'pass:max ab' ], [ 1, 'abab' ], [ 1, '' ]),
}, {
    name    => 'every part passes to the end',
    factory => { cascade => [ every('results=pass'), every('results=pass') ] },
    steps   => steps([ 0, 'pass:max' ], [ 0, 'ignored' ], [ 1, 'x pass' ], [ 1, 'pass:max' ], [ 1, 'ignored' ]),
}, {
    name    => 'replacement by the same data',
    factory => { cascade => [ every('results=replace,pass'), every('results=pass') ] },
    steps   => steps([ 0, 'replaced' ], [ 0, 'x pass' ], [ 1, 'replace' ], [ 1, 'pass:max' ]),
}, {
    name    => 'replace_later then replace',
    factory => { cascade => [ every('results=replace_later,replace,pass'), every('results=pass') ] },
    steps   => steps([ 0, 'replaced replace_later' ], [ 0, 'replace' ], [ 0, 'pass' ], [ 1, 'replace_later:max' ], [ 1, 'replaced replace' ]),
}, {
    name    => 'data after a pass into the future',
    factory => { cascade => [ every('results=pass'), every('results=pass,log') ] },
    steps   => steps([ 0, 'pass log' ], [ 0, 'pass log', $STREAM, 100 ], [ 0, 'log pass' ]),
}, {
    name    => 'declining part (empty list) is dropped',
    factory => { cascade => [ { plugin => 'ImpFixture::Plugin::Decline', config => '' }, pat('string=ab&action=replace&actdata=X') ] },
    steps   => steps([ 0, 'xxab' ], [ 0, '' ]),
};

# Where Perl's cascade dies.
push @cases, {
    name    => 'tosender from a part',
    factory => { cascade => [ pat('string=ab&action=reject&actdata=no'), pat('string=cd&action=replace&actdata=Y') ] },
    steps   => steps([ 0, 'xxabyycdzz' ], [ 0, 'ab' ], [ 0, '' ]),
}, {
    name    => 'declining part (undef)',
    factory => { cascade => [ { plugin => 'ImpFixture::Plugin::Decline', config => 'how=undef' }, pat('string=ab&action=replace&actdata=X') ] },
    steps   => steps([ 0, 'xxab' ], [ 0, '' ]),
}, {
    name    => 'part passes a direction before its data (rxdir)',
    factory => { cascade => [ pat('string=ab&rxdir=0&action=replace&actdata=X'), pat('string=cd&action=replace&actdata=Y') ] },
    steps   => steps([ 0, 'abcd' ], [ 1, 'abcd' ], [ 0, 'ab' ], [ 1, 'cd' ], [ 0, '' ], [ 1, '' ]),
}, {
    name    => 'data behind a finished last part that changed the length',
    factory => { cascade => [ pat('string=zzz&action=deny&actdata=z'), every('results=replace,pass') ] },
    steps   => steps([ 0, 'replace:empty pass:max xx' ], [ 0, 'yy' ]),
}, {
    name    => 'pass_pattern from a part',
    factory => { cascade => [ every('results=pass_pattern,pass'), every('results=pass') ] },
    steps   => steps([ 0, 'pass_pattern' ]),
}, {
    name    => 'port_open from a part',
    factory => { cascade => [ every('results=port_open,pass'), every('results=pass') ] },
    steps   => steps([ 0, 'port_open:extra pass' ]),
}, {
    name    => 'log from a part done with the direction',
    factory => { cascade => [ every('results=pass,log'), every('results=pass') ] },
    steps   => steps([ 0, 'pass:max' ], [ 0, 'log' ]),
};

# Interfaces.
my $all = [ 0x1001, 0x1003, 0x1100, 0x1011, 0x1010, 0x0001, 0x0004, 0x0010, 0x0011, 0x1102 ];
for my $if (
    [ 'no offer, same parts',      [ pat('string=a&action=deny&actdata=x'), pat('string=b&action=deny&actdata=y') ], [] ],
    [ 'no offer, different parts', [ pat('string=a&action=deny&actdata=x'), pat('string=b&action=replace&actdata=y') ], [] ],
    [ 'no offer, one part',        [ pat('string=a&action=deny&actdata=x') ], [] ],
    [ 'offer as imp-relay',        [ pat('string=a&action=deny&actdata=x'), pat('string=b&action=replace&actdata=y') ], [ [ $STREAM, $all ] ] ],
    [ 'offer without tosender',    [ pat('string=a&action=deny&actdata=x'), pat('string=b&action=replace&actdata=y') ],
      [ [ $STREAM, [ 0x1001, 0x1100, 0x1011, 0x1102 ] ], [ $PACKET, [ 0x1001, 0x1100, 0x1102 ] ], [ undef, [ 0x1001, 0x1100, 0x1011, 0x1102, 0x0001 ] ] ] ],
    [ 'offer some parts take',     [ every('results=pass,log'), every('results=pass,deny'), every('results=pass') ],
      [ [ $STREAM, [ 0x1001, 0x0001, 0x1102 ] ], [ $STREAM, [ 0x1001, 0x1100, 0x1102 ] ], [ $STREAM, [ 0x1001, 0x1100, 0x0001, 0x1102 ] ] ] ],
    [ 'offer with data types',     [ every('results=pass&dtype=-1'), every('results=pass') ],
      [ [ $PACKET, [ 0x1001, 0x1102 ] ], [ $STREAM, [ 0x1001, 0x1102 ] ], [ undef, [] ] ] ],
    [ 'offer without result list', [ pat('string=a&action=deny&actdata=x'), pat('string=b&action=deny&actdata=y') ], [ [ $STREAM, undef ] ] ],
) {
    my ($name, $parts, $offered) = @$if;
    push @cases, {
        name      => "interface $name",
        factory   => { cascade => $parts },
        interface => { offered => $offered, @$offered ? ( set => $offered->[0] ) : () },
    };
}

write_recording(\*STDOUT, { script => 'perl-fixtures/cascade-record.pl', output => 'plugin/cascade/testdata/recordings.json' }, map { run_case($_) } @cases);
