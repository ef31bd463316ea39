#!/usr/bin/perl
# Writes the example images in examples/ with Perl's own Storable, so that
# the README's first command decodes something Perl made:
#
#   perl perl-fixtures/make-examples.pl examples
use strict;
use warnings;
use utf8;
use Storable qw(nstore);

my $dir = shift // 'examples';
$Storable::canonical = 1;    # reproducible key order

# The context a Perl data provider (imp-relay.pl) hands to new_analyzer,
# inside the arguments of the new_analyzer RPC, plus a few Perl values that
# show what the tagged JSON output keeps apart.
my $ctx = { meta => {
	caddr => '192.0.2.10', cport => 40001,
	laddr => '192.0.2.1',  lport => '3000',
	daddr => '198.51.100.7', dport => 80,
}};
my $shared = [ 'shared' ];
my $value = {
	rpc       => [ 'new_analyzer', 1, $ctx ],
	bytes     => "caf\xe9",
	text      => "café ☕",
	double    => 0.5,
	big       => 2**40,
	undef     => undef,
	pattern   => qr/secret/i,
	object    => bless({ id => 7 }, 'Example::Object'),
	twice     => [ $shared, $shared ],
};
nstore($value, "$dir/example.pst") or die "nstore: $!";
print "wrote $dir/example.pst\n";
