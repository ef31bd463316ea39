package ImpFixture::Loop;

# The line protocol of the project's Perl fixture scripts (the Go side is
# conformance/internal/perlproc): one JSON object per line on STDIN, one
# JSON object per line on STDOUT.
#
#   use ImpFixture::Loop qw(run_loop);
#   run_loop({
#       thaw => sub ($req) {
#           my $ref = Storable::thaw(pack 'H*', $req->{image_hex});
#           return { value => referent_to_tagged_json($ref) };
#       },
#   });
#
# Each request names its handler in the field "op"; the handler gets the
# whole request (a hash reference) and returns the reply (a hash
# reference). When the handler dies, or the request cannot be read, the
# reply is {"error": "<message>"}. The loop ends at the end of STDIN.
#
# Conventions: binary data travels as hex strings in fields whose names end
# in _hex; Perl values travel as tagged JSON text in string fields (see
# ImpFixture::TaggedJSON), because a JSON parser would lose what tagged JSON
# keeps. Replies are written with sorted keys and flushed at once. Anything
# else the script prints to STDOUT goes to STDERR, so that stray output
# cannot break the protocol.

use v5.36;
use JSON::PP ();
use Exporter qw(import);

our $VERSION = '0.01';
our @EXPORT_OK = qw(run_loop);

# run_loop(\%handlers) serves requests until the end of STDIN.
sub run_loop ($handlers) {
    my $json = JSON::PP->new->utf8->canonical;
    open(my $out, '>&', \*STDOUT) or die "ImpFixture::Loop: cannot dup STDOUT: $!";
    open(STDOUT, '>&', \*STDERR) or die "ImpFixture::Loop: cannot redirect STDOUT: $!";
    binmode $out;
    binmode STDIN;
    $out->autoflush(1);
    STDERR->autoflush(1);
    while (defined(my $line = <STDIN>)) {
        next if $line =~ /\A\s*\z/;
        my $reply = eval { $json->encode(_serve($json, $handlers, $line)) };
        if (!defined $reply) {
            my $err = $@ || 'unknown error';
            $err =~ s/\s+\z//;
            $reply = $json->encode({ error => "$err" });
        }
        print {$out} $reply, "\n";
    }
    return;
}

sub _serve ($json, $handlers, $line) {
    my $req = eval { $json->decode($line) };
    die "bad request: $@" unless defined $req;
    die "bad request: not a JSON object\n" unless ref $req eq 'HASH';
    my $op = $req->{op};
    die "bad request: no op\n" unless defined $op && !ref $op;
    my $handler = $handlers->{$op} or die "unknown op \"$op\"\n";
    my $reply = $handler->($req);
    die "handler for \"$op\" returned no hash reference\n" unless ref $reply eq 'HASH';
    return $reply;
}

1;
