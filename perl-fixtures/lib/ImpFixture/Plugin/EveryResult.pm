package ImpFixture::Plugin::EveryResult;

# An IMP plugin that emits the results the data asks for, so that tests
# can trigger every result type with every argument shape. Its Go twin is
# "testing:every_result" (alias ImpFixture::Plugin::EveryResult) in
# plugin/testplugin, which gives the same results for the same data.
#
#   imprpc_server.pl -M 'ImpFixture::Plugin::EveryResult=results=pass,deny,log' 127.0.0.1:2000
#
# Configuration:
#   results=NAME,...  the result types it may emit and declares in its
#                     interface (Net::IMP's names: pass, log, ...);
#                     default all fifteen
#   dtype=N           the data type of its interface; default any
#
# Each chunk of data is read as words separated by white space; a word
# NAME or NAME:SHAPE names a result, emitted in the order of the words
# (one callback per chunk). Other words, shapes not listed, and types not
# in results are ignored. With dir the chunk's direction, start and end
# its offsets in the direction's stream (end = start + length) and len
# its length:
#
#   pass  pass:max  prepass  prepass:max      [type, dir, end | -1]
#   replace  replace:empty  replace:latin1    [replace, dir, end, "replaced" | "" | "caf\xe9"]
#   replace_later  replace_later:max          [replace_later, dir, start, end | -1]
#   pass_pattern                              [pass_pattern, dir, qr/\r?\n/, 2]
#   pass_pattern:i  pass_pattern:string       ... qr/end/i, 3 | "\r\n", 2
#   tosender                                  [tosender, dir, "to sender"]
#   deny  deny:noreason  deny:extra  deny:utf8
#       [deny, dir, "denied"] | [deny, dir] | [deny, dir, "denied", "key", "value", "n", 7]
#       | [deny, dir, "d\x{e9}ni\x{e9} \x{263a}"]
#   drop  fatal                               [drop] | [fatal, "fatal error"]
#   log  log:LEVEL  log:extra  log:utf8
#       [log, dir, start, len, info | LEVEL, "log message" | "caf\x{e9} \x{263a}"]
#       log:extra adds "key", "value", "n", 42
#   port_open  port_open:extra  (port_close alike)
#       [port_open, dir, end] | [port_open, dir, end, "192.0.2.1", 8080]
#   acctfield  acctfield:int|neg|big|uint|double|utf8|latin1|undef|numstr
#       [acctfield, "key", "value"] | ["n", 42] | ["n", -5] | ["n", 2**40]
#       | ["n", 18446744073709551615] | ["x", 0.5] | ["text", "\x{263a}"]
#       | ["bytes", "caf\xe9"] | ["none", undef] | ["n", "42"]
#   pause  pause:nodir  continue  continue:nodir   [type, dir] | [type]
#
# Words are split at ASCII white space (Perl's split ' ' on bytes).
# Integers are Perl integers, 0.5 a double, "42" a string; "\x{...}"
# strings are UTF-8 strings, the others byte strings.

use strict;
use warnings;
use base 'Net::IMP::Base';
use fields qw(types pos);
use Net::IMP qw(:DEFAULT :log);

my @ALL = (
    IMP_LOG, IMP_PORT_OPEN, IMP_PORT_CLOSE, IMP_ACCTFIELD, IMP_PAUSE, IMP_CONTINUE,
    IMP_REPLACE_LATER, IMP_PASS, IMP_PASS_PATTERN, IMP_PREPASS, IMP_TOSENDER,
    IMP_REPLACE, IMP_DENY, IMP_DROP, IMP_FATAL,
);
my %BYNAME = map { ("$_" => $_) } @ALL;

my %LEVEL = map { ("$_" => $_) } (
    IMP_LOG_DEBUG, IMP_LOG_INFO, IMP_LOG_NOTICE, IMP_LOG_WARNING,
    IMP_LOG_ERR, IMP_LOG_CRIT, IMP_LOG_ALERT, IMP_LOG_EMERG,
);

# The results by word: each sub gets (dir, start, end, len).
my %WORD = (
    'pass'              => sub { [ IMP_PASS, $_[0], $_[2] ] },
    'pass:max'          => sub { [ IMP_PASS, $_[0], IMP_MAXOFFSET ] },
    'prepass'           => sub { [ IMP_PREPASS, $_[0], $_[2] ] },
    'prepass:max'       => sub { [ IMP_PREPASS, $_[0], IMP_MAXOFFSET ] },
    'replace'           => sub { [ IMP_REPLACE, $_[0], $_[2], 'replaced' ] },
    'replace:empty'     => sub { [ IMP_REPLACE, $_[0], $_[2], '' ] },
    'replace:latin1'    => sub { [ IMP_REPLACE, $_[0], $_[2], "caf\xe9" ] },
    'replace_later'     => sub { [ IMP_REPLACE_LATER, $_[0], $_[1], $_[2] ] },
    'replace_later:max' => sub { [ IMP_REPLACE_LATER, $_[0], $_[1], IMP_MAXOFFSET ] },
    'pass_pattern'      => sub { [ IMP_PASS_PATTERN, $_[0], qr/\r?\n/, 2 ] },
    'pass_pattern:i'    => sub { [ IMP_PASS_PATTERN, $_[0], qr/end/i, 3 ] },
    'pass_pattern:string' => sub { [ IMP_PASS_PATTERN, $_[0], "\r\n", 2 ] },
    'tosender'          => sub { [ IMP_TOSENDER, $_[0], 'to sender' ] },
    'deny'              => sub { [ IMP_DENY, $_[0], 'denied' ] },
    'deny:noreason'     => sub { [ IMP_DENY, $_[0] ] },
    'deny:extra'        => sub { [ IMP_DENY, $_[0], 'denied', 'key', 'value', 'n', 7 ] },
    'deny:utf8'         => sub { [ IMP_DENY, $_[0], "d\x{e9}ni\x{e9} \x{263a}" ] },
    'drop'              => sub { [IMP_DROP] },
    'fatal'             => sub { [ IMP_FATAL, 'fatal error' ] },
    'log'               => sub { [ IMP_LOG, $_[0], $_[1], $_[3], IMP_LOG_INFO, 'log message' ] },
    'log:extra'         => sub { [ IMP_LOG, $_[0], $_[1], $_[3], IMP_LOG_INFO, 'log message', 'key', 'value', 'n', 42 ] },
    'log:utf8'          => sub { [ IMP_LOG, $_[0], $_[1], $_[3], IMP_LOG_INFO, "caf\x{e9} \x{263a}" ] },
    'port_open'         => sub { [ IMP_PORT_OPEN, $_[0], $_[2] ] },
    'port_open:extra'   => sub { [ IMP_PORT_OPEN, $_[0], $_[2], '192.0.2.1', 8080 ] },
    'port_close'        => sub { [ IMP_PORT_CLOSE, $_[0], $_[2] ] },
    'port_close:extra'  => sub { [ IMP_PORT_CLOSE, $_[0], $_[2], '192.0.2.1', 8080 ] },
    'acctfield'         => sub { [ IMP_ACCTFIELD, 'key', 'value' ] },
    'acctfield:int'     => sub { [ IMP_ACCTFIELD, 'n', 42 ] },
    'acctfield:neg'     => sub { [ IMP_ACCTFIELD, 'n', -5 ] },
    'acctfield:big'     => sub { [ IMP_ACCTFIELD, 'n', 1099511627776 ] },
    'acctfield:uint'    => sub { [ IMP_ACCTFIELD, 'n', 18446744073709551615 ] },
    'acctfield:double'  => sub { [ IMP_ACCTFIELD, 'x', 0.5 ] },
    'acctfield:utf8'    => sub { [ IMP_ACCTFIELD, 'text', "\x{263a}" ] },
    'acctfield:latin1'  => sub { [ IMP_ACCTFIELD, 'bytes', "caf\xe9" ] },
    'acctfield:undef'   => sub { [ IMP_ACCTFIELD, 'none', undef ] },
    'acctfield:numstr'  => sub { [ IMP_ACCTFIELD, 'n', '42' ] },
    'pause'             => sub { [ IMP_PAUSE, $_[0] ] },
    'pause:nodir'       => sub { [IMP_PAUSE] },
    'continue'          => sub { [ IMP_CONTINUE, $_[0] ] },
    'continue:nodir'    => sub { [IMP_CONTINUE] },
);
for my $level (keys %LEVEL) {
    my $l = $LEVEL{$level};
    $WORD{"log:$level"} = sub { [ IMP_LOG, $_[0], $_[1], $_[3], $l, 'log message' ] };
}

sub validate_cfg {
    my ($class, %cfg) = @_;
    my @err;
    if (defined(my $r = delete $cfg{results})) {
        push @err, map { "unknown result type $_" } grep { !$BYNAME{$_} } split /,/, $r;
    }
    if (exists $cfg{dtype}) {
        my $d = delete $cfg{dtype};
        push @err, 'dtype must be an integer' unless defined $d && $d =~ /\A-?[0-9]+\z/;
    }
    push @err, $class->SUPER::validate_cfg(%cfg);
    return @err;
}

sub _types {
    my $factory = shift;
    my $r = $factory->{factory_args}{results};
    return defined $r ? map { $BYNAME{$_} } split /,/, $r : @ALL;
}

sub INTERFACE {
    my $factory = shift;
    my $dt = $factory->{factory_args}{dtype};
    return [ defined $dt ? $dt + 0 : undef, [ _types($factory) ] ];
}

sub new_analyzer {
    my ($factory, %args) = @_;
    my $self = $factory->SUPER::new_analyzer(%args);
    $self->{types} = { map { ($_ + 0 => 1) } _types($factory) };
    $self->{pos} = [ 0, 0 ];
    return $self;
}

sub data {
    my ($self, $dir, $data, $offset) = @_;
    my $start = $offset || $self->{pos}[$dir];
    my $end = $self->{pos}[$dir] = $start + length($data);
    my @rv;
    for my $word (split ' ', $data) {
        my $make = $WORD{$word} or next;
        my $r = $make->($dir, $start, $end, length($data));
        push @rv, $r if $self->{types}{ $r->[0] + 0 };
    }
    $self->run_callback(@rv) if @rv;
}

1;
