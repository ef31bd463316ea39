package ImpFixture::Plugin::Decline;

# An IMP plugin that declines every analyzer: new_analyzer returns
# nothing, so imprpc_server.pl answers pass(0, -1) and pass(1, -1) and
# ignores the data that follows. Its Go twin is the plugin
# "testing:decline" (alias ImpFixture::Plugin::Decline) in
# plugin/testplugin.
#
#   imprpc_server.pl -M ImpFixture::Plugin::Decline 127.0.0.1:2000
#
# Configuration: how=empty (the default) returns an empty list, how=undef
# returns undef. Both decline for imprpc_server.pl; Net::IMP::Cascade,
# which calls new_analyzer in list context, drops a part that returns an
# empty list and dies on one that returns undef.

use strict;
use warnings;
use base 'Net::IMP::Base';
use Net::IMP;

sub INTERFACE { return [ undef, [IMP_PASS] ] }

sub validate_cfg {
    my ($class, %cfg) = @_;
    my $how = delete $cfg{how};
    my @err = defined $how && $how ne 'empty' && $how ne 'undef' ? ('how must be empty or undef') : ();
    return (@err, $class->SUPER::validate_cfg(%cfg));
}

sub new_analyzer {
    my $factory = shift;
    my $how = $factory->{factory_args}{how} // 'empty';
    return $how eq 'undef' ? undef : ();
}

sub data { die "a declined analyzer gets no data\n" }

1;
