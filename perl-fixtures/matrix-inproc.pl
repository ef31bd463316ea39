#!/usr/bin/perl
# Runs IMP plugins in-process in Perl for the interop matrix
# (conformance/matrix): the reference the results delivered through every
# client and server are compared with. Driven over the line protocol of
# ImpFixture::Loop; the cases are those of ImpFixture::Plugin::Run (see
# there for the fields of a case and of its recording).
#
#   {"op":"have"}               -> {"ok":0|1,"why":MSG}
#   {"op":"run","cases":[CASE...]} -> {"recordings":[RECORDING...]}
#
# A plugin spec is written as imprpc_server.pl's -M takes it
# ("Net::IMP::Pattern=rx=secret&rxlen=6&..."); several specs make a
# Net::IMP::Cascade of them, as several -M do.
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use ImpFixture::Loop qw(run_loop);

my ($have, $why) = (0, '');

sub loaded () {
    unless ($have) {
        $have = eval { require ImpFixture::Plugin::Run; 1 } ? 1 : 0;
        ($why = $@ // '') =~ s/\n.*//s;
    }
    die "Net::IMP cannot be loaded: $why\n" unless $have;
}

# factory_of turns specs into the factory description of a case.
sub factory_of (@specs) {
    my @parts = map {
        my ($class, $cfg) = split /=/, $_, 2;
        { plugin => $class, config => $cfg // '' }
    } @specs;
    return @parts == 1 ? $parts[0] : { cascade => \@parts };
}

run_loop({
    have => sub ($req) {
        eval { loaded(); 1 };
        return { ok => $have, why => $why };
    },
    run => sub ($req) {
        loaded();
        my @recs = map {
            my %case = %$_;
            $case{factory} = factory_of(@{ delete $case{specs} });
            ImpFixture::Plugin::Run::run_case(\%case);
        } @{ $req->{cases} };
        return { recordings => \@recs };
    },
});
