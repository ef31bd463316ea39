# Tests of ImpFixture::TaggedJSON: run with "prove -Ilib t" in perl-fixtures/
# (conformance/taggedjson runs them too).
use v5.36;
use Test::More;
use Storable qw(nfreeze freeze thaw);
use ImpFixture::TaggedJSON qw(to_tagged_json referent_to_tagged_json from_tagged_json referent_from_tagged_json);

no warnings 'experimental::builtin';

# Values and how they show.
my @shows = (
    [undef, 'null'],
    [!!1, 'true'],
    [!!0, 'false'],
    [0, '0'],
    [-9223372036854775807 - 1, '-9223372036854775808'],
    [18446744073709551615, '18446744073709551615'],
    [0.5, '0.5'],
    [3.0, '3.0'],
    [1e15, '1000000000000000.0'],
    [1e21, '1e+21'],
    [1.5e-7, '1.5e-07'],
    [-1e300, '-1e+300'],
    ['3000', '"3000"'],
    ["a\"b\\c\x{7f}\x{80}", '"a\"b\\\\c\u007f\u0080"'],
    ["\x{10FFFF}", '"\udbff\udfff"'],
    [[], '[]'],
    [{}, '{}'],
    [{ z => 1, a => 2, "\x{e9}" => 3, "\x{100}" => 4 }, '{"a":2,"z":1,"\u00e9":3,"\u0100":4}'],
    [\undef, '{"$ref":null}'],
    [bless({ a => [] }, 'A::B'), '{"$bless":"A::B","$value":{"a":[]}}'],
);
for my $case (@shows) {
    my ($v, $want) = @$case;
    is(to_tagged_json($v), $want, "shows $want");
}

# The flags decide, not the look.
{
    my $n = 12;
    my $s = "$n";    # sets only the private string flag on 5.36
    is(to_tagged_json($n), '12', 'a printed integer stays an integer');
    my $str = '12';
    my $sum = $str + 0;    # numeric use of a string
    is(to_tagged_json($str), '"12"', 'a string used as a number stays a string');
    is(to_tagged_json(thaw(nfreeze([7.9]))->[0]), '"7.9"', 'nfreeze writes doubles as strings');
    is(to_tagged_json(thaw(freeze([7.9]))->[0]), '7.9', 'freeze keeps doubles');
}

# Reading back: kinds and flags.
{
    my $v = from_tagged_json('[1, 2.0, "x", "\u00e9", "\u263a", 18446744073709551615, -9223372036854775808, true, null]');
    my @f = map { B::svref_2object(\$_)->FLAGS } @$v;
    ok($f[0] & B::SVf_IOK && !($f[0] & B::SVf_NOK), 'integer is an IV');
    ok($f[1] & B::SVf_NOK && !($f[1] & B::SVf_IOK), 'number with a point is an NV');
    ok(!utf8::is_utf8($v->[3]), 'Latin-1 text is a byte string');
    is($v->[3], "\xe9", '... holding the byte');
    ok(utf8::is_utf8($v->[4]), 'wide text is a UTF-8 string');
    ok($f[5] & B::SVf_IVisUV, '2**64-1 is a UV');
    is($v->[5], 18446744073709551615, '... exactly');
    is($v->[6], -9223372036854775807 - 1, '-2**63 exactly');
    ok(builtin::is_bool($v->[7]), 'true is a boolean');
    ok(!defined $v->[8], 'null is undef');
}

# Round trips through Perl values.
for my $text (
    '{"$ref":{"$ref":"a"}}',
    '{"$bless":"A","$value":"x"}',
    '{"$bless":"A","$value":{"$bless":"B","$value":[]}}',
    '{"$regexp":"^a\\\\s","$flags":"mi"}',
    '{"$bless":"Foo","$value":{"$regexp":"y","$flags":""}}',
    '[1.0,-0.0,0.1,1e-07,1e+300,"\ud83d\ude00"]',
) {
    is(to_tagged_json(from_tagged_json($text)), $text, "round trip of $text");
}

# Root rules: the referent of a Storable image.
is(referent_to_tagged_json(\"a"), '"a"', 'root of nfreeze(\"a")');
is(referent_to_tagged_json(\\"a"), '{"$ref":"a"}', 'root of nfreeze(\\\\"a")');
is(referent_to_tagged_json(thaw(nfreeze(referent_from_tagged_json('{"$ref":[1]}')))), '{"$ref":[1]}', 'root with a reference survives Storable');
is(referent_to_tagged_json(thaw(nfreeze(referent_from_tagged_json('"s"')))), '"s"', 'scalar root survives Storable');

# Cycles.
{
    my @a;
    push @a, \@a;
    is(to_tagged_json(\@a), '[{"$cycle":true}]', 'array cycle');
    my $x;
    $x = \$x;
    is(to_tagged_json($x), '{"$ref":{"$ref":{"$cycle":true}}}', 'scalar cycle');
    is(referent_to_tagged_json($x), '{"$ref":{"$cycle":true}}', 'scalar cycle at the root');
}

# Errors.
for my $bad (
    ['{"$cycle":true}', qr/cannot be built/],
    ['[1,', qr/offset 3: unexpected end of input/],
    ['18446744073709551616', qr/out of range/],
    ['"\x01"', qr/bad character/],
    ['{"$bless":"H","$hook":{}}', qr/hook object cannot be built/],
) {
    my ($text, $re) = @$bad;
    ok(!eval { from_tagged_json($text); 1 }, "refuses $text");
    like($@, $re, '... saying why');
}
ok(!eval { to_tagged_json("\x{110000}"); 1 }, 'refuses a code point beyond U+10FFFF');
like($@, qr/U\+110000/, '... naming it');
ok(!eval { to_tagged_json(sub { 1 }); 1 }, 'refuses a code reference');

{
    # Storable thaws an SX_SV_UNDEF hash value as &PL_sv_undef itself.
    require Storable;
    my $h = Storable::thaw("\x05\x0b\x03\x00\x00\x00\x01\x0e\x00\x00\x00\x01a");
    is(to_tagged_json($h), '{"a":null}', 'shows a hash value that is the immortal undef');
    my $deep = my $at = [];
    $at = $at->[0] = [] for 1 .. 300;
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    is(length to_tagged_json($deep), 602, 'shows 300 levels of nesting');
    is("@warnings", '', '... without warnings');
}

done_testing;
