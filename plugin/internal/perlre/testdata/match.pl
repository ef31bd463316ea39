#!/usr/bin/perl
# Answers how Perl's regex engine matches byte strings, for the tests of
# package perlre. One JSON object per line in, one out:
#
#   {"rx_hex": "...", "s_hex": ["...", ...]}
#     -> {"error": "..."}  when qr// refuses the pattern
#     -> {"died": "..."}   when it compiles but matching dies
#     -> {"empty": 0|1, "find": [[start, end] | null, ...], "prefix": [end | null, ...]}
#
# Pattern and subjects travel as hex so that both are byte strings (no
# UTF-8 flag), as a pattern from a command line and network data are.
# find is what $s =~ /$rx/ matches; prefix is the end of $s =~ /\A($rx)/.
use strict;
use warnings;
no warnings 'regexp';
use JSON::PP;

my $json = JSON::PP->new->canonical;
$| = 1;
while (my $line = <STDIN>) {
    my $q = $json->decode($line);
    my $src = pack 'H*', $q->{rx_hex};
    my $rx = eval { qr/$src/ };
    if (!$rx) {
        (my $e = $@) =~ s/\s+\z//;
        print $json->encode({ error => $e }), "\n";
        next;
    }
    my (@find, @prefix, $empty);
    my $ok = eval {
        for my $hex (@{ $q->{s_hex} }) {
            my $s = pack 'H*', $hex;
            push @find, $s =~ $rx ? [ $-[0], $+[0] ] : undef;
            push @prefix, $s =~ /\A($rx)/ ? $+[1] : undef;
        }
        $empty = '' =~ $rx ? 1 : 0;
        1;
    };
    if (!$ok) {    # compiled, but matching died (infinite recursion...)
        (my $e = $@) =~ s/\s+\z//;
        print $json->encode({ died => $e }), "\n";
        next;
    }
    print $json->encode({ empty => $empty, find => \@find, prefix => \@prefix }), "\n";
}
