#!/usr/bin/perl
# A stand-in for Net::IMP::Remote's imprpc_server.pl that needs neither
# Net::IMP nor AnyEvent: an IMP RPC server speaking the protocol with
# Perl's own Storable and Sereal modules, framed as Net::IMP::Remote
# frames it, and behaving as imprpc_server.pl does (the project's
# spec/imprpc-protocol.md, "What the Perl server does"), quirks included:
#
#   - set_version(1) first; get_interface answered by Net::IMP::Base's
#     matching rules (the offered interfaces that match, in offered order;
#     the plugin's own list when none is offered);
#   - set_interface: exception(0, "set_interface: unsupported interface")
#     and the previous interface kept, or the interface set (pause,
#     continue and replace_later not in its list are dropped from then on);
#   - new_analyzer: exception(id, "analyzer exists already"); a context
#     key other than meta makes the plugin die (nothing sent, a warning);
#     a declining plugin gives pass(0, -1), pass(1, -1) and a placeholder
#     that takes data silently; id 0 gets an internal id, results go out
#     with id 0;
#   - data: exception(id, "no analyzer <id>") for an unknown id; a data
#     type other than stream and packet dies ("cannot map N to known data
#     type"), as does a plugin that dies: a warning, the frame is lost;
#   - delete_analyzer: no reply, no later results;
#   - an exception from the client is printed ("[id] msg", "[*] msg");
#     interface, result or an unknown op close the connection ("no handler
#     for return type N");
#   - writes: when the socket's send buffer is full (EAGAIN) the
#     connection is closed ("failed to write: Resource temporarily
#     unavailable"), as Net::IMP::Remote::Connection does; no TCP_NODELAY.
#
#   perl rpc-server.pl -M PLUGIN[=CONFIG] [-I Storable|Sereal] ADDR...
#
# ADDR is host:port ("127.0.0.1:0" picks a port) or a path with "/" (a
# UNIX socket). Built-in plugins (configuration in Net::IMP's str2cfg
# form, key=value&key=value):
#
#   pattern   string=S, action=deny|replace, actdata=X: like
#             Net::IMP::Pattern with a string, on stream data: passes what
#             cannot be part of a match (keeping length(S)-1 bytes), at a
#             match passes what came before and gives deny(dir, X) (and
#             stops looking in that chunk) or replace(dir, end, X); at the
#             end of data the rest, with Pattern's quirk that a buffer of
#             length(S) bytes or more (after a deny) is passed up to its
#             last length(S)-1 bytes, not to -1. Packet data dies.
#   script    each chunk of data is tagged JSON of a list of results
#             [[TYPE, ARG...], ...] (TYPE a Net::IMP name such as "pass" or
#             a number; log levels by name or number), emitted as they
#             are; a chunk that is no such JSON gives nothing. The end of
#             data gives nothing either.
#   decline   declines every analyzer.
#
# A PLUGIN with "::" in its name is a Net::IMP plugin class (such as
# Net::IMP::Pattern), loaded through Net::IMP when it can be loaded, as
# imprpc_server.pl loads it.
#
# Control: the line protocol of ImpFixture::Loop on STDIN/STDOUT, served
# between network events; the server exits at the end of STDIN.
#
#   {"op":"addrs"}  -> {"addrs":[ADDR...]}   the addresses listened on
#   {"op":"stats"}  -> {"accepted":N,"open":N,"analyzers":N,"closed":[REASON...]}
#   {"op":"drop"}   -> {"dropped":N}         closes every client connection
use v5.36;
use FindBin;
use lib "$FindBin::Bin/lib";
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use Getopt::Long qw(:config posix_default bundling);
use IO::Select ();
use IO::Socket::IP ();
use IO::Socket::UNIX ();
use Socket qw(SOCK_STREAM);
use JSON::PP ();
use Storable ();
use ImpFixture::TaggedJSON qw(from_tagged_json);

use constant {
    OP_GET_INTERFACE => 0x4001, OP_SET_INTERFACE => 0x4002, OP_NEW_ANALYZER => 0x4003,
    OP_DEL_ANALYZER  => 0x4004, OP_DATA => 0x4005, OP_SET_VERSION => 0x4006,
    OP_EXCEPTION     => 0x4101, OP_INTERFACE => 0x4102, OP_RESULT => 0x4103,
};
my %RESULT = (
    log => 0x1, port_open => 0x2, port_close => 0x3, acctfield => 0x4, pause => 0x10,
    continue => 0x11, replace_later => 0x12, pass => 0x1001, pass_pattern => 0x1002,
    prepass => 0x1003, tosender => 0x1010, replace => 0x1011, deny => 0x1100,
    drop => 0x1101, fatal => 0x1102,
);
my %LEVEL = (debug => 1, info => 2, notice => 3, warning => 4, error => 5, critical => 6, alert => 7, emergency => 8);
my %HINT = map { $RESULT{$_} => 1 } qw(pause continue replace_later);
my ($PASS, $DENY, $REPLACE, $FATAL) = @RESULT{qw(pass deny replace fatal)};

my (@mod, $impl);
GetOptions('M|module=s' => \@mod, 'I|impl=s' => \$impl) or die "usage: $0 -M PLUGIN[=CONFIG] [-I Storable|Sereal] ADDR...\n";
@mod == 1 or die "$0: give one -M\n";
@ARGV or die "$0: no listen address\n";
$impl //= 'Storable';
$impl eq 'Storable' || $impl eq 'Sereal' or die "$0: -I must be Storable or Sereal\n";
if ($impl eq 'Sereal') {
    require Sereal::Encoder;
    require Sereal::Decoder;
}
my $PLUGIN = make_plugin($mod[0]);

# ---- plugins ------------------------------------------------------------
#
# A built-in plugin is {interfaces => [[dtype|undef, [rtype...]]...], new
# => sub ($ctx, $emit) -> analyzer or undef}; an analyzer is a code ref
# called as ($dir, $data, $offset, $type). A Net::IMP plugin is {factory =>
# its factory}.

sub parse_cfg ($s) {
    my %cfg;
    for my $kv (split /&/, $s // '') {
        my ($k, $v) = split /=/, $kv, 2;
        s/%([0-9a-fA-F]{2})/chr hex $1/ge for grep { defined } $k, $v;
        die "$0: config key $k given twice\n" if exists $cfg{$k};
        $cfg{$k} = $v;
    }
    return %cfg;
}

sub make_plugin ($spec) {
    my ($name, $args) = $spec =~ m{\A([a-z][\w:]*)(?:=(.*))?\z}is or die "$0: invalid module $spec\n";
    return net_imp_plugin($name, $args) if $name =~ /::/;
    my %cfg = parse_cfg($args);
    if ($name eq 'decline') {
        return { interfaces => [[undef, [$PASS]]], new => sub { undef } };
    }
    if ($name eq 'script') {
        return { interfaces => [[undef, [sort { $a <=> $b } values %RESULT]]], new => \&script_analyzer };
    }
    if ($name eq 'pattern') {
        my ($s, $act, $actdata) = delete @cfg{qw(string action actdata)};
        die "$0: pattern: string must be given and not empty\n" unless defined $s && length $s;
        die "$0: pattern: action must be deny or replace\n" unless ($act // '') =~ /\A(?:deny|replace)\z/;
        die "$0: pattern: actdata must be given\n" unless defined $actdata;
        die "$0: pattern: unexpected config keys @{[ sort keys %cfg ]}\n" if %cfg;
        return {
            interfaces => [[undef, [$PASS, $act eq 'deny' ? $DENY : $REPLACE]]],
            new => sub ($ctx, $emit) { pattern_analyzer($s, $act, $actdata, $emit) },
        };
    }
    die "$0: unknown plugin $name\n";
}

# script: the results the data spells in tagged JSON.
sub script_analyzer ($ctx, $emit) {
    return sub ($dir, $data, $offset, $type) {
        return if $data eq '';
        my $list = eval { from_tagged_json($data) };
        return unless ref $list eq 'ARRAY';
        my @rv;
        for my $r (@$list) {
            next unless ref $r eq 'ARRAY' && @$r;
            my @res = @$r;
            $res[0] = $RESULT{ $res[0] } // $res[0];
            $res[4] = $LEVEL{ $res[4] } // $res[4] if $res[0] == $RESULT{log} && @res > 4;
            push @rv, \@res;
        }
        $emit->(@rv) if @rv;
    };
}

# pattern: deny or replace a string in a stream, as Net::IMP::Pattern does
# for string=S.
sub pattern_analyzer ($s, $act, $actdata, $emit) {
    my @buf = ('', '');    # data not passed yet, per direction
    my @pos = (0, 0);      # stream offset of the start of @buf
    my $keep = length($s) - 1;
    return sub ($dir, $data, $offset, $type) {
        die "cannot deal with gaps in data\n" if $offset;
        die "pattern: only stream data\n" if $type != -1;
        my $eof = $data eq '';
        $buf[$dir] .= $data;
        my @rv;
        while (1) {
            my $at = index($buf[$dir], $s);
            if ($at >= 0) {
                push @rv, [$PASS, $dir, $pos[$dir] += $at] if $at > 0;
                $pos[$dir] += length $s;
                substr($buf[$dir], 0, $at + length($s), '');
                if ($act eq 'deny') {
                    push @rv, [$DENY, $dir, $actdata];
                    last;
                }
                push @rv, [$REPLACE, $dir, $pos[$dir], $actdata];
                last if $buf[$dir] eq '';
                next;
            }
            my $n = length($buf[$dir]) - $keep;
            if ($n > 0) {
                push @rv, [$PASS, $dir, $pos[$dir] += $n];
                substr($buf[$dir], 0, $n, '');
            } elsif ($eof) {
                push @rv, [$PASS, $dir, -1];
                $buf[$dir] = '';
            }
            last;
        }
        $emit->(@rv) if @rv;
    };
}

# A Net::IMP plugin class, loaded as imprpc_server.pl loads it.
sub net_imp_plugin ($class, $args) {
    eval "require $class; 1" or die "cannot load $class: $@";
    my %args = defined $args ? $class->str2cfg($args) : ();
    if (my @err = $class->validate_cfg(%args)) {
        die "wrong args for $class: @err\n";
    }
    return { factory => $class->new_factory(%args) };
}

# d2i_result returns a Net::IMP result with its dualvars as integers, as
# Net::IMP::Remote's rpc_d2i sends them.
sub d2i_result ($r) {
    my @r = @$r;
    $r[0] += 0;
    $r[4] += 0 if $r[0] == $RESULT{log} && defined $r[4];
    return \@r;
}

# ---- interfaces (Net::IMP::Base's rules) -------------------------------

# match_interfaces returns the offered interfaces a plugin with the
# interfaces $own supports: for each offered one, the first of $own whose
# data type is any or the same and whose result types, with fatal and
# without pause, continue and replace_later, the offered list holds (an
# empty or missing list holds everything). With none offered, $own.
sub match_interfaces ($own, @offered) {
    return @$own unless @offered;
    my @rv;
    OFFERED: for my $if (@offered) {
        my ($dt, $rt) = @$if;
        for my $mine (@$own) {
            my ($mdt, $mrt) = @$mine;
            next if $mdt && (!defined $dt || $mdt != $dt);
            if ($rt && @$rt) {
                my %missing = map { $_ => 1 } @$mrt, $FATAL;
                delete @missing{ @$rt, keys %HINT };
                next if %missing;
            }
            push @rv, [$dt, $rt];
            next OFFERED;
        }
    }
    return @rv;
}

# ---- connections -----------------------------------------------------------

my $sel = IO::Select->new;
my (%listener, %conn, @addrs, @closed);
my ($accepted, $json) = (0, JSON::PP->new->utf8->canonical);

for my $addr (@ARGV) {
    my $l;
    if ($addr =~ m{/}) {
        unlink $addr;
        $l = IO::Socket::UNIX->new(Local => $addr, Listen => 100, Type => SOCK_STREAM)
            or die "failed to listen on unix socket $addr: $!\n";
        push @addrs, $addr;
    } else {
        $l = IO::Socket::IP->new(LocalAddr => $addr, Listen => 100, ReuseAddr => 1)
            or die "failed to listen on inet socket $addr: $!\n";
        my $host = $l->sockhost;
        push @addrs, ($host =~ /:/ ? "[$host]" : $host) . ':' . $l->sockport;
    }
    $l->blocking(0);
    $listener{ fileno $l } = $l;
    $sel->add($l);
}
$sel->add(\*STDIN);
open(my $out, '>&', \*STDOUT) or die "cannot dup STDOUT: $!";
open(STDOUT, '>&', \*STDERR) or die "cannot redirect STDOUT: $!";
$out->autoflush(1);
STDERR->autoflush(1);
binmode $out;
my $stdin_buf = '';
$SIG{PIPE} = 'IGNORE';

while (1) {
    my @ready = $sel->can_read;
    for my $fh (@ready) {
        if ($fh == \*STDIN) {
            control() or exit 0;
        } elsif (my $l = $listener{ fileno $fh }) {
            accept_conn($l);
        } elsif (my $c = $conn{ fileno $fh }) {
            read_conn($c);
        }
    }
}

sub control {
    my $n = sysread(STDIN, $stdin_buf, 65536, length $stdin_buf);
    return 0 unless $n;
    while ($stdin_buf =~ s/\A([^\n]*)\n//) {
        my $line = $1;
        next if $line =~ /\A\s*\z/;
        my $reply = eval { serve_control($json->decode($line)) } // { error => "$@" };
        print {$out} $json->encode($reply), "\n";
    }
    return 1;
}

sub serve_control ($req) {
    my $op = $req->{op} // '';
    return { addrs => \@addrs } if $op eq 'addrs';
    if ($op eq 'stats') {
        my $n = 0;
        $n += keys %{ $_->{an} } for values %conn;
        return { accepted => $accepted, open => scalar(keys %conn), analyzers => $n, closed => \@closed };
    }
    if ($op eq 'drop') {
        my @c = values %conn;
        close_conn($_, undef) for @c;
        return { dropped => scalar @c };
    }
    die "unknown op \"$op\"\n";
}

sub accept_conn ($l) {
    my $fd = $l->accept or return;
    $fd->blocking(0);
    $accepted++;
    my $c = {
        fd => $fd, rbuf => '', imp => $PLUGIN->{factory}, an => {}, next_id => 1, narrow => undef,
        dec => $impl eq 'Sereal' ? Sereal::Decoder->new({ incremental => 1 }) : undef,
    };
    $conn{ fileno $fd } = $c;
    $sel->add($fd);
    send_rpc($c, OP_SET_VERSION, 1);
}

sub close_conn ($c, $why) {
    return unless $c->{fd};
    warn "[$c->{fd}] error: $why\n" if defined $why;
    push @closed, $why // 'closed by the server';
    $sel->remove($c->{fd});
    delete $conn{ fileno $c->{fd} };
    close $c->{fd};
    %$c = ();
}

sub read_conn ($c) {
    my $n = sysread($c->{fd}, $c->{rbuf}, 65536, length $c->{rbuf});
    if (!defined $n) {
        return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        return close_conn($c, "failed to read: $!");
    }
    if ($n == 0) {
        return close_conn($c, $c->{rbuf} eq '' ? undef : 'eof inside operation');
    }
    while ($c->{fd}) {
        my $rpc = eval { next_rpc($c) };
        if (!defined $rpc) {
            warn "$@" if $@;    # the frame is lost, the connection goes on
            last if !$@;
            next;
        }
        eval { dispatch($c, @$rpc); 1 } or warn $@;
    }
}

# next_rpc returns the next [op, args...] in the read buffer, or nothing
# when more bytes are needed (it dies for a frame that cannot be read).
sub next_rpc ($c) {
    while (1) {
        my ($op, @args);
        if ($c->{dec}) {
            my $doc;
            eval { $c->{dec}->decode($c->{rbuf}, $doc) } or return;
            return unless $doc;
            ($op, @args) = @$doc;
        } else {
            return if length($c->{rbuf}) < 6;
            my ($o, $len) = unpack('SL', $c->{rbuf});
            return if length($c->{rbuf}) - 6 < $len;
            my $payload = substr($c->{rbuf}, 6, $len);
            substr($c->{rbuf}, 0, 6 + $len, '');
            $op = $o;
            @args = @{ Storable::thaw($payload) };
        }
        if ($op == OP_SET_VERSION) {
            die "wrong version $args[0], can do 1 only\n" if $args[0] != 1;
            next;
        }
        if ($op == OP_DATA && $args[3] != -1 && $args[3] != 1) {
            die "cannot map $args[3] to known data type\n";
        }
        return [$op, @args];
    }
}

sub send_rpc ($c, $op, @args) {
    return unless $c->{fd};
    my $buf = $impl eq 'Sereal'
        ? Sereal::Encoder->new->encode([$op, @args])
        : pack('SL/a*', $op, Storable::nfreeze(\@args));
    while (length $buf) {
        my $n = syswrite($c->{fd}, $buf);
        if (!defined $n) {
            next if $! == EINTR;
            return close_conn($c, "failed to write: $!");
        }
        substr($buf, 0, $n, '');
    }
}

sub dispatch ($c, $op, @args) {
    if ($op == OP_GET_INTERFACE) {
        my @if = $c->{imp} ? $c->{imp}->get_interface(@args) : match_interfaces($PLUGIN->{interfaces}, @args);
        # as rpc_d2i writes them: [dtype] without a result list
        send_rpc($c, OP_INTERFACE, map { my ($dt, $rt) = @$_; $rt ? [$dt, [map { $_ + 0 } @$rt]] : [$dt] } @if);
    } elsif ($op == OP_SET_INTERFACE) {
        my ($if) = @args;
        if ($c->{imp}) {
            my $f = $c->{imp}->set_interface($if)
                or return send_rpc($c, OP_EXCEPTION, 0, 'set_interface: unsupported interface');
            $c->{imp} = $f;
            return;
        }
        match_interfaces($PLUGIN->{interfaces}, $if)
            or return send_rpc($c, OP_EXCEPTION, 0, 'set_interface: unsupported interface');
        $c->{narrow} = { map { $_ => 1 } @{ $if->[1] // [] } };
    } elsif ($op == OP_NEW_ANALYZER) {
        new_analyzer($c, @args);
    } elsif ($op == OP_DEL_ANALYZER) {
        delete $c->{an}{ $args[0] };
    } elsif ($op == OP_DATA) {
        my ($id, $dir, $offset, $type, $data) = @args;
        my $an = $c->{an}{$id} or return send_rpc($c, OP_EXCEPTION, $id, "no analyzer $id");
        ref $an or return;    # declined
        $an->($dir, $data, $offset, $type);
    } elsif ($op == OP_EXCEPTION) {
        my ($id, $msg) = @args;
        warn $id ? "[$id] $msg\n" : "[*] $msg\n";
    } else {
        close_conn($c, "no handler for return type $op");
    }
}

sub new_analyzer ($c, $id, $ctx) {
    if ($c->{an}{$id}) {
        return send_rpc($c, OP_EXCEPTION, $id, 'analyzer exists already');
    }
    my $key = $id;
    if (!$id) {    # an internal id; results still go out with id 0
        $key = $c->{next_id}++ while !$key || $c->{an}{$key};
    }
    my ($narrow, $wc, $making) = ($c->{narrow}, $c, 1);
    my $emit = sub (@rv) {
        return unless $wc->{fd} && ($making || $wc->{an}{$key});
        for my $r (@rv) {
            next if $narrow && $HINT{ $r->[0] } && !$narrow->{ $r->[0] };
            send_rpc($wc, OP_RESULT, $id, @$r);
        }
    };
    my $an;
    if (my $f = $c->{imp}) {
        $an = $f->new_analyzer(%$ctx);
        if ($an) {
            my $obj = $an;
            $obj->set_callback(sub { $emit->(map { d2i_result($_) } @_) });
            $an = sub ($dir, $data, $offset, $type) { $obj->data($dir, $data, $offset, $type) };
        }
    } else {
        for my $k (sort keys %$ctx) {
            die "Attempt to access disallowed key '$k' in a restricted hash\n" if $k ne 'meta';
        }
        $an = $PLUGIN->{new}->($ctx, $emit);
    }
    $making = 0;
    if (!$an) {
        $c->{an}{$key} = 'declined';
        send_rpc($c, OP_RESULT, $id, $PASS, 0, -1);
        send_rpc($c, OP_RESULT, $id, $PASS, 1, -1);
        return;
    }
    $c->{an}{$key} = $an;
}
