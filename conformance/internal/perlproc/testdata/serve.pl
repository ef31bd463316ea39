# A fixture script for the perlproc tests: a few handlers that show each
# part of the line protocol.
use v5.36;
use ImpFixture::Loop qw(run_loop);

run_loop({
    echo  => sub ($req) { return { echo => $req } },
    fail  => sub ($req) { warn "about to fail\n"; die "failing as asked\n" },
    sleep => sub ($req) { sleep $req->{seconds}; return {} },
    exit  => sub ($req) { warn "exiting as asked\n"; exit $req->{status} },
    stray => sub ($req) { print "stray output\n"; return { ok => 1 } },
    env   => sub ($req) { return { perl5lib => $ENV{PERL5LIB}, value => $ENV{ $req->{name} } } },
    reverse => sub ($req) {
        my $data = pack 'H*', $req->{data_hex};
        return { length => length $data, reversed_hex => unpack 'H*', scalar reverse $data };
    },
});
