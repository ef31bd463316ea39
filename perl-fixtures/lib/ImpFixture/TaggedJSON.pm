package ImpFixture::TaggedJSON;

# Tagged JSON (the project's spec/tagged-json.md): Perl values shown as JSON
# text, and JSON text read back into Perl values, with the distinctions the
# wire formats keep (integer, double or string as Perl's flags say, byte or
# UTF-8 string, references, blessing, regexps, cycles).
#
#   use ImpFixture::TaggedJSON qw(to_tagged_json from_tagged_json);
#   my $text  = to_tagged_json($value);     # a value, as an element shows
#   my $value = from_tagged_json($text);    # dies on bad input
#
#   # The root of a Storable image is the referent of the frozen reference:
#   my $text = referent_to_tagged_json(thaw($image));
#   my $ref  = referent_from_tagged_json($text);   # nfreeze($ref)
#
# Only core Perl (5.36) is used. The output is ASCII: every character
# outside U+0020..U+007E is a \u escape (a surrogate pair above U+FFFF), and
# hash keys are sorted. Numbers follow the scalar's public flags in the order
# Storable checks them (string, then integer, then double), so a number
# that was only printed stays a number and a string that was only used as
# a number stays a string.

use v5.36;
use B ();
use Carp qw(croak);
use Scalar::Util qw(blessed reftype refaddr);
use Exporter qw(import);
no warnings qw(experimental::builtin non_unicode surrogate nonchar recursion);

our $VERSION = '0.01';
our @EXPORT_OK = qw(to_tagged_json referent_to_tagged_json from_tagged_json referent_from_tagged_json);

my $is_bool = defined &builtin::is_bool ? \&builtin::is_bool : sub { 0 };

# ---- Perl value -> tagged JSON ------------------------------------------

# to_tagged_json($value) shows a value the way an array element shows:
# a reference to an array or hash is the array or hash, a reference to a
# scalar is {"$ref": ...}.
sub to_tagged_json {
    my $copy = $_[0];    # the argument is a value, not a container
    return _scalar(\$copy, {});
}

# referent_to_tagged_json($ref) shows what $ref points at, as the root of
# a Storable image shows: like to_tagged_json($ref), except that an
# unblessed scalar shows as its value without the {"$ref": ...} layer.
sub referent_to_tagged_json {
    my ($ref) = @_;
    croak 'referent_to_tagged_json: not a reference' unless ref $ref;
    return _ref($ref, {}, 1);
}

# Shows the scalar $sv refers to. Every scalar being shown is marked in
# %$seen, so that a reference back to it is a cycle.
sub _scalar ($sv, $seen) {
    local $seen->{refaddr $sv} = 1;
    my $obj = B::svref_2object($sv);
    if (!$obj->isa('B::SPECIAL') && $obj->FLAGS & B::SVs_OBJECT) {
        return _blessed($obj->SvSTASH->NAME, _content($sv, $seen));
    }
    return _content($sv, $seen);
}

sub _content ($sv, $seen) {
    my $v = $$sv;
    return _ref($v, $seen, 0) if ref $v;
    return 'null' unless defined $v;
    return $v ? 'true' : 'false' if $is_bool->($$sv);
    my $type = reftype $sv;
    return _string($v) if $type eq 'VSTRING';
    croak "tagged JSON: cannot show a $type" if $type ne 'SCALAR' && $type ne 'LVALUE';
    my $f = B::svref_2object($sv)->FLAGS;
    return _string($v) if $f & B::SVf_POK;
    return _integer($v, $f) if $f & B::SVf_IOK;
    return _double($v) if $f & B::SVf_NOK;
    return _string($v) if $f & B::SVp_POK;
    return _integer($v, $f) if $f & B::SVp_IOK;
    return _double($v) if $f & B::SVp_NOK;
    croak 'tagged JSON: cannot tell the type of a scalar';
}

sub _integer ($v, $flags) {
    return sprintf($flags & B::SVf_IVisUV ? '%u' : '%d', $v);
}

# The shortest decimal text that reads back as the same double, spelled as
# Go's strconv does ('f' form between 1e-6 and 1e21, 'e' form outside),
# always with a '.' or an exponent.
sub _double ($nv) {
    return '"nan"' if $nv != $nv;
    return $nv > 0 ? '"inf"' : '"-inf"' if $nv * 0 != 0;
    return sprintf('%g', $nv) =~ /^-/ ? '-0.0' : '0.0' if $nv == 0;
    my $want = pack 'd', $nv;
    my ($sign, $digits, $exp);
    for my $prec (0 .. 16) {
        my $s = sprintf '%.*e', $prec, $nv;
        next if pack('d', $s) ne $want;
        ($sign, my $int, my $frac, $exp) = $s =~ /^(-?)(\d)(?:\.(\d+))?e([-+]\d+)$/
          or croak "tagged JSON: unexpected number text $s";
        $digits = $int . ($frac // '');
        $digits =~ s/0+$//;
        $digits = '0' if $digits eq '';
        $exp += 0;
        last;
    }
    croak "tagged JSON: no decimal form for $nv" unless defined $digits;
    my $abs = abs $nv;
    if ($abs >= 1e-6 && $abs < 1e21) {
        my $n = length $digits;
        my $text;
        if ($exp < 0) {
            $text = '0.' . ('0' x (-$exp - 1)) . $digits;
        } elsif ($exp + 1 >= $n) {
            $text = $digits . ('0' x ($exp + 1 - $n)) . '.0';
        } else {
            $text = substr($digits, 0, $exp + 1) . '.' . substr($digits, $exp + 1);
        }
        return $sign . $text;
    }
    my $mant = length $digits > 1 ? substr($digits, 0, 1) . '.' . substr($digits, 1) : $digits;
    return sprintf '%s%se%s%02d', $sign, $mant, $exp < 0 ? '-' : '+', abs $exp;
}

my %escape = ('"' => '\\"', '\\' => '\\\\', "\b" => '\\b', "\f" => '\\f', "\n" => '\\n', "\r" => '\\r', "\t" => '\\t');

sub _string ($s) {
    if ($s =~ /([^\x{0}-\x{10FFFF}])/) {
        croak sprintf 'tagged JSON: code point U+%X is beyond U+10FFFF and has no JSON form', ord $1;
    }
    $s =~ s{([^\x20-\x7e]|["\\])}{$escape{$1} // _uescape(ord $1)}ge;
    return qq{"$s"};
}

sub _uescape ($c) {
    return sprintf '\\u%04x', $c if $c < 0x10000;
    $c -= 0x10000;
    return sprintf '\\u%04x\\u%04x', 0xD800 + ($c >> 10), 0xDC00 + ($c & 0x3FF);
}

sub _blessed ($class, $body) {
    return '{"$bless":' . _string($class) . ',"$value":' . $body . '}';
}

my %scalar_type = map { $_ => 1 } qw(SCALAR REF VSTRING LVALUE);

sub _ref ($ref, $seen, $root) {
    my $class = blessed $ref;
    if (re::is_regexp($ref)) {
        my ($pattern, $flags) = re::regexp_pattern($ref);
        my $body = '{"$regexp":' . _string($pattern) . ',"$flags":' . _string($flags) . '}';
        return defined $class && $class ne 'Regexp' ? _blessed($class, $body) : $body;
    }
    my $type = reftype $ref;
    my $addr = refaddr $ref;
    if ($seen->{$addr}) {
        return $scalar_type{$type} && !defined $class ? '{"$ref":{"$cycle":true}}' : '{"$cycle":true}';
    }
    local $seen->{$addr} = 1;
    my $body;
    if ($type eq 'ARRAY') {
        $body = '[' . join(',', map { exists $ref->[$_] ? _scalar(\$ref->[$_], $seen) : 'null' } 0 .. $#$ref) . ']';
    } elsif ($type eq 'HASH') {
        # A value that is &PL_sv_undef itself (Storable thaws SX_SV_UNDEF
        # hash values so) cannot be taken as an lvalue: show it as undef.
        $body = '{' . join(',', map { _string($_) . ':' . _scalar(eval { \$ref->{$_} } // \undef, $seen) } sort keys %$ref) . '}';
    } elsif ($scalar_type{$type}) {
        $body = _content($ref, $seen);
        return $body if $root && !defined $class;
        return '{"$ref":' . $body . '}' unless defined $class;
    } else {
        croak "tagged JSON: cannot show a $type reference";
    }
    return defined $class ? _blessed($class, $body) : $body;
}

# ---- tagged JSON -> Perl value ------------------------------------------

# from_tagged_json($text) reads one tagged JSON value (a character string,
# as JSON::PP->decode without utf8 takes it) and returns the Perl value, as
# an element: a JSON array gives an array reference. Numbers with '.' or an
# exponent are doubles (NV), other numbers integers (IV, or UV above
# 2**63-1), exact; strings with a character above U+00FF are UTF-8 strings,
# others byte strings. {"$cycle": true} and Storable hook objects cannot be
# built and make it die, as does any syntax error (with the offset).
sub from_tagged_json ($text) {
    return (_parse_root($text))[0];
}

# referent_from_tagged_json($text) reads the root of a Storable image and
# returns a reference to it, ready for nfreeze: a JSON array, hash, regexp
# or blessed value gives the reference to it, any other value (a string,
# a number, {"$ref": ...}) a reference to a scalar holding it.
sub referent_from_tagged_json ($text) {
    my ($v, $kind) = _parse_root($text);
    return $kind eq 'scalar' ? \$v : $v;
}

sub _parse_root ($text) {
    local $_ = $text;
    pos($_) = 0;
    my @r = _value(0);
    /\G[ \t\r\n]*/gc;
    _fail('data after the value') if pos($_) != length $_;
    return @r;
}

sub _fail ($what) {
    croak sprintf 'tagged JSON: offset %d: %s', pos($_) // 0, $what;
}

my $max_depth = 10000;

# _value returns the value and its kind: 'implicit' for a reference whose
# referent the JSON shows directly (array, hash, regexp: $bless blesses
# these), 'blessed' for a reference to a blessed value, 'scalar' for
# everything else.
sub _value ($depth) {
    _fail('nesting too deep') if $depth > $max_depth;
    /\G[ \t\r\n]*/gc;
    if (/\G\{/gc) { return _object($depth) }
    if (/\G\[/gc) {
        my @a;
        /\G[ \t\r\n]*/gc;
        if (!/\G\]/gc) {
            while (1) {
                push @a, (_value($depth + 1))[0];
                /\G[ \t\r\n]*/gc;
                last if /\G\]/gc;
                /\G,/gc or _fail('expected , or ] in an array');
            }
        }
        return (\@a, 'implicit');
    }
    if (/\G"/gc) { return (_string_body(), 'scalar') }
    my $start = pos($_);
    if (/\G(-?(?:0|[1-9][0-9]*))((?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/gc) {
        my ($int, $rest) = ($1, $2);
        my $n = length $rest ? _to_double("$int$rest") : _to_integer($int);
        return ($n, 'scalar') if defined $n;
        pos($_) = $start;
        _fail("number $int$rest is out of range");
    }
    return (!!1, 'scalar') if /\Gtrue/gc;
    return (!!0, 'scalar') if /\Gfalse/gc;
    return (undef, 'scalar') if /\Gnull/gc;
    _fail(pos($_) >= length $_ ? 'unexpected end of input' : 'unexpected character');
}

sub _object ($depth) {
    my (%h, @keys);
    /\G[ \t\r\n]*/gc;
    if (!/\G\}/gc) {
        while (1) {
            /\G[ \t\r\n]*/gc;
            /\G"/gc or _fail('expected a string as object key');
            my $k = _string_body();
            /\G[ \t\r\n]*:/gc or _fail('expected : after an object key');
            _fail("duplicate key \"$k\"") if exists $h{$k};
            push @keys, $k;
            $h{$k} = [_value($depth + 1)];
            /\G[ \t\r\n]*/gc;
            last if /\G\}/gc;
            /\G,/gc or _fail('expected , or } in an object');
        }
    }
    my $shape = join ',', sort @keys;
    if ($shape eq '$ref') {
        my $v = $h{'$ref'}[0];
        return (\$v, 'scalar');
    }
    if ($shape eq '$bless,$value') {
        my $class = $h{'$bless'}[0];
        _fail('$bless is not a string') if ref $class || !defined $class;
        my ($v, $kind) = @{ $h{'$value'} };
        return (bless($v, $class), 'blessed') if $kind eq 'implicit';
        return (bless(\$v, $class), 'blessed');
    }
    if ($shape eq '$flags,$regexp' || $shape eq '$regexp') {
        my ($pattern, $flags) = ($h{'$regexp'}[0], $h{'$flags'} ? $h{'$flags'}[0] : '');
        _fail('$regexp and $flags must be strings') if grep { ref $_ || !defined $_ } $pattern, $flags;
        _fail("unknown regexp flags \"$flags\"") if $flags !~ /\A[msixpnadlu]*\z/;
        return (_regexp($pattern, $flags), 'implicit');
    }
    _fail('{"$cycle": true} cannot be built') if $shape eq '$cycle';
    _fail('a Storable hook object cannot be built') if $shape eq '$bless,$hook';
    return ({ map { $_ => $h{$_}[0] } @keys }, 'implicit');
}

# Compiles qr/$pattern/$flags without the /u that "use v5.36" adds, so
# that the flags are the ones given (Perl adds u itself for a UTF-8
# pattern).
sub _regexp ($pattern, $flags) {
    no feature 'unicode_strings';
    my $re = eval "qr/\$pattern/$flags" or _fail("bad regexp: $@");
    return $re;
}

my %unescape = ('"' => '"', '\\' => '\\', '/' => '/', b => "\b", f => "\f", n => "\n", r => "\r", t => "\t");

sub _string_body {
    my $s = '';
    while (1) {
        if (/\G([^"\\\x00-\x1f]+)/gc) {
            $s .= $1;
        } elsif (/\G"/gc) {
            last;
        } elsif (/\G\\u([0-9a-fA-F]{4})/gc) {
            my $c = hex $1;
            if ($c >= 0xD800 && $c <= 0xDBFF && /\G\\u([dD][c-fC-F][0-9a-fA-F]{2})/gc) {
                $c = 0x10000 + (($c - 0xD800) << 10) + (hex($1) - 0xDC00);
            }
            $s .= chr $c;
        } elsif (/\G\\(["\\\/bfnrt])/gc) {
            $s .= $unescape{$1};
        } else {
            _fail(pos($_) >= length $_ ? 'unterminated string' : 'bad character or escape in a string');
        }
    }
    utf8::downgrade($s, 1);
    return $s;
}

# Returns the integer, or undef when it is outside -2**63 .. 2**64-1.
sub _to_integer ($text) {
    my $digits = $text =~ s/^-//r;
    my $neg = $digits ne $text;
    my $len = length $digits;
    if ($neg) {
        return undef if $len > 19 || ($len == 19 && $digits gt '9223372036854775808');
        return unpack 'q', pack 'q', $text;
    }
    return unpack 'q', pack 'q', $text if $len < 19 || ($len == 19 && $digits le '9223372036854775807');
    return undef if $len > 20 || ($len == 20 && $digits gt '18446744073709551615');
    return unpack 'Q', pack 'Q', $text;
}

# Returns the double, or undef when it is beyond the range of a double.
sub _to_double ($text) {
    my $nv = unpack 'd', pack 'd', $text;
    my $probe = $nv;    # arithmetic on $nv itself would add the integer flag
    return $probe * 0 == 0 ? $nv : undef;
}

1;
