package ImpFixture::Plugin::EchoContext;

# An IMP plugin that echoes the context new_analyzer got: for every
# scalar in the meta hash, in sorted key order, acctfield("meta.KEY",
# VALUE), nested hashes and arrays flattened into the key
# ("meta.a.b", "meta.list.0"), references to anything else left out;
# then pass(0, -1) and pass(1, -1). The data is ignored. It takes no
# configuration. Its Go twin is "testing:echo_context" (alias
# ImpFixture::Plugin::EchoContext) in plugin/testplugin.
#
#   imprpc_server.pl -M ImpFixture::Plugin::EchoContext 127.0.0.1:2000

use strict;
use warnings;
use base 'Net::IMP::Base';
use Net::IMP;

sub INTERFACE { return [ undef, [ IMP_ACCTFIELD, IMP_PASS ] ] }

sub _flatten {
    my ($key, $v) = @_;
    if (ref $v eq 'HASH') {
        return map { _flatten("$key.$_", $v->{$_}) } sort keys %$v;
    }
    if (ref $v eq 'ARRAY') {
        return map { _flatten("$key.$_", $v->[$_]) } 0 .. $#$v;
    }
    return if ref $v;
    return [ IMP_ACCTFIELD, $key, $v ];
}

sub new_analyzer {
    my ($factory, %args) = @_;
    my $self = $factory->SUPER::new_analyzer(%args);
    my @rv = $self->{meta} ? _flatten('meta', $self->{meta}) : ();
    $self->run_callback(@rv, [ IMP_PASS, 0, IMP_MAXOFFSET ], [ IMP_PASS, 1, IMP_MAXOFFSET ]);
    return $self;
}

sub data { return }

1;
