#!/usr/bin/perl
# Answers questions about Net::IMP's semantics, for the tests of package imp.
# Line protocol: one JSON object per line in, one JSON object per line out.
# Strings travel as characters; a Go byte string is sent as Latin-1
# characters (U+0000..U+00FF).
#
#   {"op":"get_interface","own":[IF...],"offered":[IF...]} -> {"reply":[IF...]}
#   {"op":"set_interface","own":[IF...],"want":IF}          -> {"ok":0|1,"ignore":[N...]}
#   {"op":"str2cfg","s":"..."}                              -> {"cfg":{k:v|null}} | {"error":"..."}
#   {"op":"cfg2str","cfg":{k:v|null}}                      -> {"s":"..."}
#   {"op":"constants"}                                      -> {"result":{..},"log":{..},"data":{..},"maxoffset":N}
#
# IF is [data_type|null, [result_type...]|null], every constant as its number.
use strict;
use warnings;
use JSON::PP;
use Net::IMP qw(:DEFAULT :log IMP_DATA IMP_DATA_TYPES);
use Net::IMP::Base;

package ImpTest::Plugin;
use base 'Net::IMP::Base';
our @IF;
sub INTERFACE { return @IF }

package main;

my %rtype = map { ($_ + 0) => $_ } (
    IMP_PASS, IMP_PASS_PATTERN, IMP_PREPASS, IMP_DENY, IMP_DROP, IMP_FATAL,
    IMP_TOSENDER, IMP_REPLACE, IMP_REPLACE_LATER, IMP_PAUSE, IMP_CONTINUE,
    IMP_LOG, IMP_PORT_OPEN, IMP_PORT_CLOSE, IMP_ACCTFIELD,
);

# to_dual turns an interface of numbers into one of dualvars, as
# Net::IMP::Remote's rpc_i2d does (unknown result types become undef).
sub to_dual {
    my ($dt, $rt) = @{ shift() };
    return [ $dt, $rt ? [ map { $rtype{$_} } @$rt ] : undef ];
}

sub to_num {
    my ($dt, $rt) = @{ shift() };
    return [ defined $dt ? $dt + 0 : undef,
        $rt ? [ map { defined $_ ? $_ + 0 : undef } @$rt ] : undef ];
}

sub factory {
    @ImpTest::Plugin::IF = map { to_dual($_) } @{ shift() };
    return ImpTest::Plugin->new_factory;
}

my $json = JSON::PP->new->utf8->ascii->canonical->allow_nonref;
$| = 1;
while (my $line = <STDIN>) {
    my $q = $json->decode($line);
    my $op = $q->{op};
    my $ans;
    if ($op eq 'get_interface') {
        my $f = factory($q->{own});
        $ans = { reply => [ map { to_num($_) } $f->get_interface(map { to_dual($_) } @{ $q->{offered} }) ] };
    } elsif ($op eq 'set_interface') {
        my $f = factory($q->{own});
        my $g = $f->set_interface(to_dual($q->{want}));
        $ans = { ok => $g ? 1 : 0,
            ignore => [ sort { $a <=> $b } map { $_ + 0 } keys %{ $f->{ignore_rv} || {} } ] };
    } elsif ($op eq 'str2cfg') {
        my %cfg = eval { no warnings; Net::IMP::Base->str2cfg($q->{s}) };
        if ($@) {
            (my $e = $@) =~ s/ at \S+ line \d+\.?\n//;
            $ans = { error => $e };
        } else {
            $ans = { cfg => \%cfg };
        }
    } elsif ($op eq 'cfg2str') {
        $ans = { s => Net::IMP::Base->cfg2str(%{ $q->{cfg} }) };
    } elsif ($op eq 'constants') {
        my %data;
        # as Net::IMP::HTTP 0.52 does; 'http' needs getservbyname
        my $http = getservbyname('http', 'tcp') ? 'http' : 'http[5242880]';
        IMP_DATA($http,
            'header' => +1, 'body' => -2, 'chkhdr' => +3, 'chktrailer' => +4,
            'data' => -5, 'junk' => -6);
        IMP_DATA('httprq[http+10]', 'header' => +1, 'content' => -2, 'data' => -3);
        $data{"$_"} = $_ + 0 for IMP_DATA_TYPES();
        $ans = {
            result => { map { ("$_" => $_ + 0) } values %rtype },
            log => { map { ("$_" => $_ + 0) } IMP_LOG_DEBUG, IMP_LOG_INFO, IMP_LOG_NOTICE,
                IMP_LOG_WARNING, IMP_LOG_ERR, IMP_LOG_CRIT, IMP_LOG_ALERT, IMP_LOG_EMERG },
            data => \%data,
            maxoffset => IMP_MAXOFFSET + 0,
        };
    } else {
        $ans = { error => "unknown op $op" };
    }
    print $json->encode($ans), "\n";
}
