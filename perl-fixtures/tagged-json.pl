#!/usr/bin/perl
# Fixture for conformance/taggedjson: shows Perl values as tagged JSON and
# reads tagged JSON into Perl values, with ImpFixture::TaggedJSON, over the
# line protocol of ImpFixture::Loop.
#
# ops (all values travel as tagged JSON text in the field "tj"):
#   roundtrip          from_tagged_json, then to_tagged_json
#   referent_roundtrip the same with the root rules of a Storable image
#   show               evaluates the Perl expression "perl" and shows it
#   show_referent      the same, showing what the expression's reference
#                      points at
use v5.36;
use ImpFixture::Loop qw(run_loop);
use ImpFixture::TaggedJSON qw(to_tagged_json referent_to_tagged_json from_tagged_json referent_from_tagged_json);

# Evaluates test expressions without the unicode_strings feature of
# "use v5.36", so that qr// flags are what plain Perl code gets.
sub evaluate ($code) {
    no strict;
    no feature 'unicode_strings';
    my $v = eval $code;
    die "expression failed: $@" if $@;
    return $v;
}

run_loop({
    roundtrip          => sub ($req) { return { tj => to_tagged_json(from_tagged_json($req->{tj})) } },
    referent_roundtrip => sub ($req) { return { tj => referent_to_tagged_json(referent_from_tagged_json($req->{tj})) } },
    show               => sub ($req) { return { tj => to_tagged_json(evaluate($req->{perl})) } },
    show_referent      => sub ($req) { return { tj => referent_to_tagged_json(evaluate($req->{perl})) } },
});
