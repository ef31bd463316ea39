#!/usr/bin/perl
# A Perl IMP RPC client for the server suites (conformance/server): it
# speaks the protocol over TCP or a UNIX socket with Perl's own Storable
# and Sereal modules, framing every RPC as Net::IMP::Remote does, and is
# driven over the line protocol of ImpFixture::Loop. RPCs travel as tagged
# JSON of the array [op, args...] with every dualvar as its integer (as
# Net::IMP::Remote's rpc_d2i leaves them), binary data as hex.
#
#   Storable:  pack("SL/a*", $op, Storable::nfreeze(\@args))
#   Sereal:    Sereal::Encoder->new->encode([$op, @args]), read back with
#              an incremental Sereal::Decoder
#
# Requests of the raw client ("wire" is "storable" or "sereal"; a
# connection is named by the number "connect" returned):
#
#   {"op":"connect","addr":A,"wire":W}            -> {"conn":N}
#       A is host:port, or a path containing "/" for a UNIX socket.
#   {"op":"send","conn":N,"rpcs":[RPC...],"chunk":K}
#       -> {"bytes":B}: the RPCs encoded and written; with chunk, in writes
#       of at most K bytes (frames split anywhere), else in one write.
#   {"op":"send_repeat","conn":N,"rpc":RPC,"times":T}
#       -> {"bytes":B}: the RPC encoded once and written T times, in writes
#       of up to 1 MiB, while nothing is read (a client that stops
#       reading).
#   {"op":"send_hex","conn":N,"hex":H}            -> {"bytes":B}: raw bytes.
#   {"op":"recv","conn":N,"count":C,"timeout":S,"brief":0|1}
#       -> {"rpcs":[RPC...],"eof":0|1,"error":MSG}: reads until C RPCs have
#       come (set_version included), the server closed the connection, or
#       S seconds (default 20) passed; whatever came is returned. With
#       brief, a string argument longer than 1024 bytes is replaced by the
#       string "<N bytes>".
#   {"op":"quiet","conn":N,"seconds":S,"brief":0|1}
#       -> {"rpcs":[...],"eof":0|1}: reads for S seconds, to show that
#       nothing (or what) came.
#   {"op":"close","conn":N}                       -> {}
#
# Requests of the real Net::IMP::Remote client (ImpFixture::RemoteClient;
# Net::IMP::Remote, AnyEvent and its event loop must load, see "have"):
#
#   {"op":"have"}                        -> {"remote":0|1,"why":MSG}
#   {"op":"remote_new","addr":A,"impl":"Storable"|"Sereal","fail":"hard"|"soft"}
#                                        -> {"client":N}
#   {"op":"remote_get_interface","client":N,"interfaces":[IF...]}
#                                        -> {"interfaces":[IF...]}
#   {"op":"remote_set_interface","client":N,"interface":IF} -> {"ok":0|1}
#   {"op":"remote_new_analyzer","client":N,"context":TJ}    -> {"analyzer":H}
#   {"op":"remote_data","client":N,"analyzer":H,"dir":D,"offset":O,"type":T,"data_hex":X}
#   {"op":"remote_close_analyzer","client":N,"analyzer":H}
#   {"op":"remote_run","client":N,"want":{"H":COUNT,...},"warnings":W,"idle":S,"timeout":S}
#       -> {"results":{"H":[RESULT...]},"warnings":[MSG...],"why":"done"|"idle"|"timeout"}:
#       runs the event loop until every analyzer H has COUNT results and
#       W warnings came (with neither: until idle or timeout), or, with
#       idle, no result came for that long; then returns and forgets the
#       results and the warnings Net::IMP::Remote printed.
#   {"op":"remote_close","client":N}     -> {"warnings":[MSG...]}
#
# IF is an interface as tagged JSON [data_type|null, [result_type...]];
# RESULT tagged JSON of [result_type, args...] with types and log levels
# as integers.
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use Storable ();
use Sereal::Encoder ();
use Sereal::Decoder ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use IO::Select ();
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time);
use ImpFixture::Loop qw(run_loop);
use ImpFixture::TaggedJSON qw(to_tagged_json from_tagged_json);

no warnings qw(portable);

# ---- framing as Net::IMP::Remote does it -------------------------------

my $sereal_encoder = Sereal::Encoder->new;

# frame encodes [op, args...] as rpc2buf does after rpc_d2i, which builds
# the interface lists anew (set_interface always with a result list).
sub frame ($wire, $rpc) {
    my ($op, @args) = @$rpc;
    if ($op == 0x4001 || $op == 0x4102) {
        @args = map { my ($dt, $rt) = @$_; $rt ? [$dt, [@$rt]] : [$dt] } @args;
    } elsif ($op == 0x4002) {
        my ($dt, $rt) = @{ $args[0] };
        @args = ([$dt, [@{ $rt // [] }]]);
    }
    return pack('SL/a*', $op, Storable::nfreeze(\@args)) if $wire eq 'storable';
    return $sereal_encoder->encode([$op, @args]) if $wire eq 'sereal';
    die "unknown wire $wire\n";
}

# ---- raw connections -------------------------------------------------------

my %conns;
my $next_conn = 1;

sub connect_to ($addr) {
    my $sock = $addr =~ m{/}
        ? IO::Socket::UNIX->new(Peer => $addr, Type => SOCK_STREAM)
        : IO::Socket::INET->new(PeerAddr => $addr, Timeout => 10);
    die "connect $addr: $!\n" unless $sock;
    binmode $sock;
    return $sock;
}

sub conn_of ($req) {
    return $conns{ $req->{conn} // '' } // die "no connection $req->{conn}\n";
}

sub write_all ($c, $buf, $chunk) {
    my $n = length $buf;
    while (length $buf) {
        my $part = $chunk ? substr($buf, 0, $chunk) : $buf;
        my $w = syswrite($c->{sock}, $part) // die "write: $!\n";
        substr($buf, 0, $w, '');
    }
    return $n;
}

# take_rpcs moves the complete RPCs of the read buffer to the queue, as
# Net::IMP::Remote's buf2rpc reads them.
sub take_rpcs ($c) {
    if ($c->{wire} eq 'storable') {
        while (length($c->{rbuf}) >= 6) {
            my ($len) = unpack('x2L', $c->{rbuf});
            last if length($c->{rbuf}) - 6 < $len;
            my ($op, $payload) = unpack('SL/a*', $c->{rbuf});
            substr($c->{rbuf}, 0, $len + 6, '');
            my $args = Storable::thaw($payload) // die "thaw failed\n";
            push @{ $c->{queue} }, [$op, @$args];
        }
        return;
    }
    while (length $c->{rbuf}) {
        my $out;
        eval { $c->{decoder}->decode($c->{rbuf}, $out); 1 } or last;
        last unless defined $out;
        push @{ $c->{queue} }, $out;
    }
}

# read_some waits up to $wait seconds for bytes and reads what is there;
# false at the end of the stream.
sub read_some ($c, $wait) {
    return 0 if $c->{eof};
    return 1 unless IO::Select->new($c->{sock})->can_read($wait);
    my $n = sysread($c->{sock}, $c->{rbuf}, 1 << 20, length $c->{rbuf});
    if (!$n) {
        $c->{eof} = 1;
        $c->{error} = "read: $!" unless defined $n;
        return 0;
    }
    take_rpcs($c);
    return 1;
}

sub reply_rpcs ($c, $count, $brief) {
    my @rpcs = splice(@{ $c->{queue} }, 0, $count // scalar @{ $c->{queue} });
    if ($brief) {
        for my $rpc (@rpcs) {
            $_ = sprintf('<%d bytes>', length) for grep { defined && !ref && length > 1024 } @$rpc;
        }
    }
    my %r = (rpcs => [map { to_tagged_json($_) } @rpcs], eof => $c->{eof} && !@{ $c->{queue} } ? 1 : 0);
    $r{error} = $c->{error} if defined $c->{error};
    return \%r;
}

my %raw = (
    connect => sub ($req) {
        my $wire = $req->{wire} // 'storable';
        die "unknown wire $wire\n" unless $wire eq 'storable' || $wire eq 'sereal';
        my $n = $next_conn++;
        $conns{$n} = {
            sock => connect_to($req->{addr}), wire => $wire, rbuf => '', queue => [],
            decoder => Sereal::Decoder->new({ incremental => 1 }),
        };
        return { conn => $n };
    },
    send => sub ($req) {
        my $c = conn_of($req);
        my $buf = join '', map { frame($c->{wire}, from_tagged_json($_)) } @{ $req->{rpcs} };
        return { bytes => write_all($c, $buf, $req->{chunk}) };
    },
    send_repeat => sub ($req) {
        my $c = conn_of($req);
        my $f = frame($c->{wire}, from_tagged_json($req->{rpc}));
        my $per = int((1 << 20) / length $f) || 1;
        my ($n, $left) = (0, $req->{times});
        while ($left > 0) {
            my $k = $left < $per ? $left : $per;
            $n += write_all($c, $f x $k, 0);
            $left -= $k;
        }
        return { bytes => $n };
    },
    send_hex => sub ($req) {
        my $c = conn_of($req);
        return { bytes => write_all($c, pack('H*', $req->{hex}), $req->{chunk}) };
    },
    recv => sub ($req) {
        my $c = conn_of($req);
        my $until = time + ($req->{timeout} // 20);
        while (@{ $c->{queue} } < $req->{count}) {
            my $left = $until - time;
            last if $left <= 0 || !read_some($c, $left);
        }
        return reply_rpcs($c, $req->{count}, $req->{brief});
    },
    quiet => sub ($req) {
        my $c = conn_of($req);
        my $until = time + ($req->{seconds} // 0.2);
        while ((my $left = $until - time) > 0) {
            last unless read_some($c, $left);
        }
        return reply_rpcs($c, undef, $req->{brief});
    },
    close => sub ($req) {
        my $c = delete $conns{ $req->{conn} } // die "no connection $req->{conn}\n";
        close $c->{sock};
        return {};
    },
);

# ---- the real Net::IMP::Remote client ------------------------------------

my ($have_remote, $why_not);
my %clients;
my $next_client = 1;

sub remote_loaded () {
    unless (defined $have_remote) {
        $have_remote = eval { require ImpFixture::RemoteClient; 1 } ? 1 : 0;
        ($why_not = $@ // '') =~ s/\n.*//s;
    }
    die "Net::IMP::Remote cannot be loaded: $why_not\n" unless $have_remote;
}

sub client_of ($req) {
    remote_loaded();
    return $clients{ $req->{client} // '' } // die "no client $req->{client}\n";
}

sub iface_in ($tj) { return from_tagged_json($tj) }

my %remote = (
    have => sub ($req) {
        eval { remote_loaded(); 1 };
        return { remote => $have_remote, why => $why_not };
    },
    remote_new => sub ($req) {
        remote_loaded();
        my $n = $next_client++;
        $clients{$n} = ImpFixture::RemoteClient->new(
            addr => $req->{addr}, impl => $req->{impl} // 'Storable', fail => $req->{fail} // 'hard');
        return { client => $n };
    },
    remote_get_interface => sub ($req) {
        my $rc = client_of($req);
        my @if = $rc->get_interface(map { iface_in($_) } @{ $req->{interfaces} // [] });
        return { interfaces => [map { to_tagged_json(ImpFixture::RemoteClient::interface_to_ints($_)) } @if] };
    },
    remote_set_interface => sub ($req) {
        my $rc = client_of($req);
        return { ok => $rc->set_interface(iface_in($req->{interface})) ? 1 : 0 };
    },
    remote_new_analyzer => sub ($req) {
        my $rc = client_of($req);
        my $ctx = defined $req->{context} ? from_tagged_json($req->{context}) : {};
        return { analyzer => $rc->new_analyzer(%$ctx) };
    },
    remote_data => sub ($req) {
        my $rc = client_of($req);
        $rc->data($req->{analyzer}, $req->{dir}, pack('H*', $req->{data_hex} // ''), $req->{offset} // 0, $req->{type} // -1);
        return {};
    },
    remote_close_analyzer => sub ($req) {
        client_of($req)->close_analyzer($req->{analyzer});
        return {};
    },
    remote_run => sub ($req) {
        my $rc = client_of($req);
        my $want = $req->{want} // {};
        my $warnings = $req->{warnings} // 0;
        my $why = $rc->run(
            until => sub {
                return 0 unless %$want || $warnings;
                my @short = grep { $rc->result_count($_) < $want->{$_} } keys %$want;
                return !@short && $rc->warning_count >= $warnings;
            },
            timeout => $req->{timeout} // 20,
            idle => $req->{idle},
        );
        my %results = map { $_ => [map { to_tagged_json($_) } $rc->take_results($_)] } keys %$want;
        return { results => \%results, warnings => [$rc->take_warnings], why => $why };
    },
    remote_close => sub ($req) {
        my $rc = client_of($req);
        delete $clients{ $req->{client} };
        $rc->close;
        return { warnings => [$rc->take_warnings] };
    },
);

run_loop({ %raw, %remote });
