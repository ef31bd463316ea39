#!/usr/bin/perl
# The Perl side of the IMP RPC wire suite (conformance/wire): frames made
# and read by Perl's own Storable and Sereal, the way Net::IMP::Remote's
# wire classes make and read them, over the line protocol of
# ImpFixture::Loop. Frames travel as hex, RPCs as tagged JSON of the array
# [op, args...] with every dualvar as its integer (as rpc_d2i leaves them).
#
#   Storable:  pack("SL/a*", $op, Storable::nfreeze(\@args))
#   Sereal:    Sereal::Encoder->new->encode([$op, @args])
#
# Requests ("wire" is "storable" or "sereal"):
#
#   {"op":"encode","wire":W,"rpcs":[JSON,...]}
#       -> {"frames_hex":[...]}: each RPC encoded by Perl.
#   {"op":"decode","wire":W,"hex":H}
#       -> {"rpcs":[JSON,...], "rest":N, "failure":...}: the byte stream H
#       read as Net::IMP::Remote reads it (Storable: header, then thaw of
#       the payload; Sereal: an incremental Sereal::Decoder), each RPC as
#       tagged JSON; rest is the number of bytes left over, failure what
#       made Perl's decoder die.
#   {"op":"random","wire":W,"seed":N,"count":N}
#       -> {"frames_hex":[...], "rpcs":[JSON,...]}: count random RPCs of
#       every op and result type, built as Perl's client and server build
#       them, encoded by Perl, and what Perl's decoder makes of each frame.
#   {"op":"exchange","wire":W,"addr":"127.0.0.1:PORT","send_hex":H,"want":N}
#       -> {"rpcs":[JSON,...]}: connects to addr, writes H, and reads
#       until N RPCs have arrived (set_version included); then closes.
#   {"op":"upstream_decode","wire":W,"frames_hex":[H,...]}
#       -> {"results":[{"rpc":JSON} | {"consumed":1} | {"failure":MSG}]}:
#       each frame given alone to the real Net::IMP::Remote wire class's
#       buf2rpc (Net::IMP::Remote::Storable or ::Sereal, which must be on
#       PERL5LIB), in a decoder that knows the data types of
#       Net::IMP::HTTP, and the RPC it returns mapped back to integers with
#       rpc_d2i; "consumed" when it returns nothing and eats the frame
#       (set_version 1).
#
# With --self-test it checks its own random RPCs through both wires and
# exits.
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use Storable ();
use Sereal::Encoder ();
use Sereal::Decoder ();
use IO::Socket::INET ();
use ImpFixture::Loop qw(run_loop);
use ImpFixture::TaggedJSON qw(to_tagged_json from_tagged_json);

no warnings qw(portable);

# ---- framing as Net::IMP::Remote does it -------------------------------

# encode_rpc encodes [op, args...] as rpc2buf does after rpc_d2i, which
# builds the interface lists of get_interface, interface and set_interface
# anew, so that nothing else refers to them (Sereal then writes them as
# ARRAYREF_n), and keeps references to anything else (a context hash).
sub encode_rpc ($wire, $rpc) {
    my $op = $rpc->[0];
    if ($wire eq 'storable') {
        my $doc = d2i_rpc(@$rpc);
        shift @$doc;
        return pack('SL/a*', $op, Storable::nfreeze($doc));
    }
    return Sereal::Encoder->new->encode(d2i_rpc(@$rpc)) if $wire eq 'sereal';
    die "unknown wire $wire\n";
}

# d2i_rpc returns [op, args...] as rpc_d2i does (the temporaries of the
# copy are gone when it returns). For Storable the op is not in the
# payload: the caller takes it out.
sub d2i_rpc ($op, @args) { return [$op, d2i_args($op, @args)] }

sub d2i_args ($op, @args) {
    if ($op == 0x4001 || $op == 0x4102) {
        return map { my ($dt, $rt) = @$_; $rt ? [$dt, [@$rt]] : [$dt] } @args;
    }
    if ($op == 0x4002) {
        my ($dt, $rt) = @{ $args[0] };
        return [$dt, [@{ $rt // [] }]];
    }
    return @args;
}

# decode_stream reads every RPC of $buf; returns the RPCs, the bytes left
# and the error that stopped it (undef at the end of complete frames).
sub decode_stream ($wire, $buf) {
    my @rpcs;
    if ($wire eq 'storable') {
        while (length($buf) >= 6) {
            my ($len) = unpack('x2L', $buf);
            last if length($buf) - 6 < $len;
            my ($op, $payload) = unpack('SL/a*', $buf);
            substr($buf, 0, $len + 6, '');
            my $args = eval { Storable::thaw($payload) };
            return (\@rpcs, length $buf, "thaw: $@") unless $args;
            push @rpcs, [$op, @$args];
        }
        return (\@rpcs, length $buf, undef);
    }
    my $dec = Sereal::Decoder->new({ incremental => 1 });
    while (length $buf) {
        my $out;
        my $ok = eval { $dec->decode($buf, $out); 1 };
        return (\@rpcs, length $buf, "decode: $@") unless $ok;
        last unless defined $out;
        push @rpcs, $out;
    }
    return (\@rpcs, length $buf, undef);
}

sub rpc_json ($rpc) { return to_tagged_json($rpc) }

# ---- random RPCs ---------------------------------------------------------

my @result_types = (0x1001, 0x1002, 0x1003, 0x1100, 0x1101, 0x1102, 0x1010, 0x1011, 0x12, 0x10, 0x11, 1, 2, 3, 4);
my @data_types = (-1, 1, 5242880, 5242881, -5242882, -5242892, -2);

# Integers as Perl holds them (IV, never a double): the edges of the
# encodings of both wires.
my @edge_ints = (0, 1, 15, 16, 127, 128, 255, 256, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x10000000000, 0x20000000000000, 0x7fffffffffffffff);
sub rnd_int { return $edge_ints[rand @edge_ints] }
sub rnd_offset { return rand() < 0.3 ? 0 : rand() < 0.2 ? -1 : rnd_int() }

sub rnd_bytes ($max) {
    my $n = rand() < 0.5 ? int(rand(40)) : int(rand($max));
    return join '', map { chr(int rand 256) } 1 .. $n;
}

sub rnd_text {
    my @w = ('found secret', "caf\x{e9}", "\x{263a} smile", 'x' x int(rand 300), "J\x{fc}rgen", '', 'deny');
    my $s = $w[rand @w];
    utf8::upgrade($s) if rand() < 0.2;
    return $s;
}

sub rnd_scalar {
    my $r = rand;
    return rnd_int() * (rand() < 0.3 ? -1 : 1) if $r < 0.3;
    return (0.25, 0.1, -1.5, 1 / 3, 3.0)[rand 5] if $r < 0.45;
    return rnd_text();
}

sub rnd_kv ($n) { return map { ("key$_", rnd_scalar()) } 1 .. $n }

sub rnd_interfaces {
    my @if;
    for (1 .. int(rand 4)) {
        my $dt = rand() < 0.2 ? undef : $data_types[rand @data_types];
        my $r = rand;
        if ($r < 0.2) { push @if, [$dt] }
        else { push @if, [$dt, [map { $result_types[rand @result_types] } 1 .. int(rand 6)]] }
    }
    return @if;
}

sub rnd_result ($id) {
    my $t = $result_types[rand @result_types];
    my $dir = int rand 2;
    return [0x4103, $id, $t, $dir, rnd_offset()] if $t == 0x1001 || $t == 0x1003;
    return [0x4103, $id, $t, $dir, rand() < 0.5 ? qr/\r\n\r\n/ : qr/^end\s*$/mi, 4] if $t == 0x1002;
    return [0x4103, $id, $t, $dir, rnd_text(), rnd_kv(int rand 3)] if $t == 0x1100;
    return [0x4103, $id, $t] if $t == 0x1101;
    return [0x4103, $id, $t, rnd_text()] if $t == 0x1102;
    return [0x4103, $id, $t, $dir, rnd_bytes(2000)] if $t == 0x1010;
    return [0x4103, $id, $t, $dir, rnd_offset(), rnd_bytes(2000)] if $t == 0x1011;
    return [0x4103, $id, $t, $dir, rnd_int(), rnd_int()] if $t == 0x12;
    return [0x4103, $id, $t, $dir] if $t == 0x10 || $t == 0x11;
    return [0x4103, $id, $t, $dir, rnd_offset(), int rand 1000, 1 + int rand 8, rnd_text(), rnd_kv(int rand 3)] if $t == 1;
    return [0x4103, $id, $t, $dir, rnd_offset(), '192.0.2.10', 20001] if $t == 2 || $t == 3;
    return [0x4103, $id, $t, "field", rnd_scalar()];
}

# rnd_rpc builds one RPC; the hashes of new_analyzer stay referenced
# elsewhere (@$keep) while they are encoded, as in Net::IMP::Remote's
# client.
sub rnd_rpc ($keep) {
    my $id = rand() < 0.8 ? 1 + int rand 1000 : 1 + int rand 0x7fffffff;
    my $r = rand;
    if ($r < 0.35) {
        my $data = rnd_bytes(70000);
        utf8::upgrade($data) if rand() < 0.05;
        $data = "\x{263a}$data" if rand() < 0.03;
        my $off = rand() < 0.3 ? undef : rnd_offset();
        $off = 0 if defined $off && $off < 0;
        return [0x4005, $id, int rand 2, $off, $data_types[rand @data_types], $data];
    }
    return rnd_result($id) if $r < 0.7;
    if ($r < 0.75) {
        my %meta = (caddr => '192.0.2.10', cport => 40001, laddr => '127.0.0.1', lport => '3000', app => 'imp_proxy');
        $meta{"x$_"} = rnd_scalar() for 1 .. int rand 4;
        my %ctx = (meta => \%meta);
        push @$keep, \%meta, \%ctx;
        return [0x4003, $id, \%ctx];
    }
    return [0x4004, $id] if $r < 0.8;
    return [0x4101, (rand() < 0.2 ? 0 : $id), rnd_text()] if $r < 0.85;
    return [0x4001, rnd_interfaces()] if $r < 0.9;
    return [0x4102, rnd_interfaces()] if $r < 0.95;
    my $dt = rand() < 0.2 ? undef : $data_types[rand @data_types];
    return [0x4002, [$dt, [map { $result_types[rand @result_types] } 1 .. int(rand 6)]]];
}

sub random_rpcs ($wire, $seed, $count) {
    srand($seed);
    my (@frames, @rpcs, @keep);
    for (1 .. $count) {
        my $rpc = rnd_rpc(\@keep);
        my $frame = encode_rpc($wire, $rpc);
        my ($got, $rest, $err) = decode_stream($wire, $frame);
        die "Perl cannot read its own frame: $err\n" if $err || $rest || @$got != 1;
        push @frames, unpack('H*', $frame);
        push @rpcs, rpc_json($got->[0]);
    }
    return { frames_hex => \@frames, rpcs => \@rpcs };
}

# ---- socket exchange -------------------------------------------------------

sub exchange ($req) {
    my $sock = IO::Socket::INET->new(PeerAddr => $req->{addr}, Timeout => 10)
        or die "connect $req->{addr}: $!\n";
    binmode $sock;
    my $out = pack 'H*', ($req->{send_hex} // '');
    local $SIG{ALRM} = sub { die "exchange: timeout\n" };
    alarm 30;
    while (length $out) {
        my $n = syswrite($sock, $out) // die "write: $!\n";
        substr($out, 0, $n, '');
    }
    my ($buf, @rpcs) = ('');
    while (@rpcs < $req->{want}) {
        my $n = sysread($sock, $buf, 65536, length $buf) // die "read: $!\n";
        die "exchange: peer closed after " . scalar(@rpcs) . " RPCs\n" unless $n;
        my ($got, $rest, $err) = decode_stream($req->{wire}, $buf);
        die "exchange: $err\n" if $err;
        substr($buf, 0, length($buf) - $rest, '');
        push @rpcs, @$got;
    }
    alarm 0;
    close $sock;
    return { rpcs => [map { rpc_json($_) } @rpcs] };
}

# ---- the real Net::IMP::Remote ------------------------------------------

my %upstream;

sub upstream_decode ($req) {
    unless (%upstream) {
        require Net::IMP;
        require Net::IMP::Remote::Storable;
        require Net::IMP::Remote::Sereal;
        require Net::IMP::Remote::DualvarMapping;
        # The data types of Net::IMP::HTTP 0.52.
        Net::IMP::IMP_DATA('http', header => +1, body => -2, chkhdr => +3, chktrailer => +4, data => -5, junk => -6);
        Net::IMP::IMP_DATA('httprq[http+10]', header => +1, content => -2, data => -3);
        %upstream = (storable => 'Net::IMP::Remote::Storable', sereal => 'Net::IMP::Remote::Sereal');
    }
    my $class = $upstream{ $req->{wire} } // die "unknown wire $req->{wire}\n";
    my @results;
    for my $hex (@{ $req->{frames_hex} }) {
        my $buf = pack 'H*', $hex;
        my $len = length $buf;
        my $rpc = eval {
            local $SIG{__WARN__} = sub { };
            $class->new->buf2rpc(\$buf);
        };
        if ($@) {
            (my $msg = $@) =~ s/ at \S+ line \d+.*//s;
            push @results, { failure => $msg };
        } elsif (!$rpc) {
            push @results, length($buf) < $len ? { consumed => 1 } : { failure => 'frame not consumed' };
        } elsif (!defined $rpc->[0]) {
            push @results, { failure => 'unknown op' };
        } else {
            push @results, { rpc => rpc_json(Net::IMP::Remote::DualvarMapping::rpc_d2i($rpc)) };
        }
    }
    return { results => \@results };
}

# ---- main ----------------------------------------------------------------

if (@ARGV && $ARGV[0] eq '--self-test') {
    for my $wire (qw(storable sereal)) {
        my $r = random_rpcs($wire, 1, 200);
        printf "%s: %d random RPCs encode and decode\n", $wire, scalar @{ $r->{rpcs} };
    }
    exit 0;
}

run_loop({
    encode => sub ($req) {
        my @frames = map { unpack 'H*', encode_rpc($req->{wire}, from_tagged_json($_)) } @{ $req->{rpcs} };
        return { frames_hex => \@frames };
    },
    decode => sub ($req) {
        my ($rpcs, $rest, $err) = decode_stream($req->{wire}, pack 'H*', $req->{hex});
        my %reply = (rpcs => [map { rpc_json($_) } @$rpcs], rest => $rest);
        $reply{failure} = $err if defined $err;
        return \%reply;
    },
    random => sub ($req) { return random_rpcs($req->{wire}, $req->{seed}, $req->{count}) },
    exchange => \&exchange,
    upstream_decode => \&upstream_decode,
});
