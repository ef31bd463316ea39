#!/usr/bin/perl
# Records what the Perl test plugins (perl-fixtures/lib/ImpFixture/Plugin:
# Decline, EveryResult, EchoContext) do through Net::IMP, for the tests of
# their Go twins in plugin/testplugin. Regenerate with
#
#   PERL5LIB=<p5-net-imp>/lib:perl-fixtures/lib PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 \
#     perl perl-fixtures/testplugin-record.pl > plugin/testplugin/testdata/recordings.json
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use ImpFixture::Plugin::Run qw(run_case write_recording);

my $STREAM = -1;
my $PACKET = 1;

sub step ($dir, $data, %o) {
    return { dir => $dir, type => $o{type} // $STREAM, offset => $o{offset} // 0, data_hex => unpack('H*', $data) };
}

my @words = qw(
    pass pass:max prepass prepass:max replace replace:empty replace:latin1
    replace_later replace_later:max pass_pattern pass_pattern:i pass_pattern:string
    tosender deny deny:noreason deny:extra deny:utf8 drop fatal
    log log:extra log:utf8 log:debug log:info log:notice log:warning log:error
    log:critical log:alert log:emergency
    port_open port_open:extra port_close port_close:extra
    acctfield acctfield:int acctfield:neg acctfield:big acctfield:uint acctfield:double
    acctfield:utf8 acctfield:latin1 acctfield:undef acctfield:numstr
    pause pause:nodir continue continue:nodir
);

my @cases;
my $every = 'ImpFixture::Plugin::EveryResult';

# Every word on its own, in both directions, after some data.
for my $w (@words) {
    push @cases, {
        name    => "every_result $w",
        factory => { plugin => $every, config => '' },
        steps   => [ step(0, 'hello'), step(0, "x $w y"), step(1, "$w\n"), step(1, "\t$w  $w") ],
    };
}
push @cases, {
    name    => 'every_result all words at once, packets, unknown words, offsets',
    factory => { plugin => $every, config => '' },
    steps   => [ step(0, join(' ', @words)), step(1, join("\n", reverse @words), type => $PACKET),
                 step(0, 'nothing passx log:foo log: :log pa ss'), step(0, 'pass log', offset => 1000),
                 step(1, "log\x0bpass\x85log\xa0pass"), step(0, ''), step(1, '') ],
};
push @cases, {
    name    => 'every_result results restricted',
    factory => { plugin => $every, config => 'results=pass,log,deny' },
    steps   => [ step(0, join(' ', @words)) ],
};
push @cases, {
    name    => 'every_result no results',
    factory => { plugin => $every, config => 'results=' },
    steps   => [ step(0, 'pass deny') ],
};
for my $cfg ('', 'results=pass,deny', 'results=pass,log,pause,continue', 'dtype=-1&results=pass', 'dtype=1', 'results=pass,deny,') {
    push @cases, {
        name      => "every_result interface $cfg",
        factory   => { plugin => $every, config => $cfg },
        interface => { offered => [ [ $STREAM, [ 0x1001, 0x1100 ] ], [ $PACKET, [ 0x1001, 0x0001, 0x1100 ] ], [ undef, [] ], [ $STREAM, undef ] ],
                       set => [ $STREAM, [ 0x1001, 0x1100, 0x0010 ] ] },
    }, {
        name      => "every_result own interface $cfg",
        factory   => { plugin => $every, config => $cfg },
        interface => { offered => [] },
    };
}
for my $cfg ('results=foo,pass,bar', 'results=,pass', 'dtype=x', 'dtype', 'dtype=+1', 'results=pass&other=1', 'results=4097') {
    push @cases, { name => "every_result config $cfg", factory => { plugin => $every, config => $cfg } };
}

# Decline.
push @cases, {
    name    => 'decline',
    factory => { plugin => 'ImpFixture::Plugin::Decline', config => '' },
    steps   => [ step(0, 'data') ],
}, {
    name      => 'decline interface',
    factory   => { plugin => 'ImpFixture::Plugin::Decline', config => '' },
    interface => { offered => [ [ $STREAM, [0x1001] ], [ $STREAM, [0x1100] ] ] },
}, {
    name    => 'decline how=undef',
    factory => { plugin => 'ImpFixture::Plugin::Decline', config => 'how=undef' },
    steps   => [ step(0, 'data') ],
};
for my $cfg ('foo=1', 'how=bad&x', 'how', 'how=empty') {
    push @cases, { name => "decline config $cfg", factory => { plugin => 'ImpFixture::Plugin::Decline', config => $cfg } };
}

# EchoContext: contexts as tagged JSON.
for my $ctx (
    undef,
    '{}',
    '{"meta":{}}',
    '{"meta":{"caddr":"192.0.2.10","cport":40001,"laddr":"192.0.2.1","lport":"3000","saddr":"198.51.100.7","sport":80,"app":"imp_proxy"}}',
    '{"meta":{"z":1,"a":{"c":[1,"x",{"d":null}],"b":0.5},"k\u00e9y":"v\u00e9","\u043a\u043b\u044e\u0447":"\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"}}',
    '{"meta":{"ref":{"$ref":"x"},"obj":{"$bless":"Foo","$value":{"a":1}},"re":{"$regexp":"x","$flags":""},"n":-7,"big":18446744073709551615}}',
) {
    push @cases, {
        name    => 'echo_context ' . ($ctx // 'none'),
        factory => { plugin => 'ImpFixture::Plugin::EchoContext', config => '' },
        context => $ctx,
        steps   => [ step(0, 'data'), step(1, '') ],
    };
}

write_recording(\*STDOUT, { script => 'perl-fixtures/testplugin-record.pl', output => 'plugin/testplugin/testdata/recordings.json' }, map { run_case($_) } @cases);
