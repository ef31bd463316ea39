package ImpFixture::RemoteClient;

# Runs the real Net::IMP::Remote client the way a data provider
# (imp-relay.pl, App::HTTP_Proxy_IMP) runs it: a factory made with
# Net::IMP::Remote->new_factory(addr, impl, fail, eventlib), analyzers
# from it with a callback, data fed to them, and an event loop that the
# data provider owns. Here the event loop is AnyEvent's (EV when it is
# installed), and this module is the data provider: it provides the
# eventlib object Net::IMP::Remote needs (onread, onwrite, timer, now),
# collects the results of each analyzer and what Net::IMP::Remote prints
# as warnings (its only trace of exceptions and closed connections), and
# runs the loop until the results a test waits for have come.
#
#   use ImpFixture::RemoteClient;
#   my $rc = ImpFixture::RemoteClient->new(addr => '127.0.0.1:2000', impl => 'Sereal');
#   my @if = $rc->get_interface([IMP_DATA_STREAM, [IMP_PASS, IMP_DENY]]);
#   $rc->set_interface($if[0]) or die;
#   my $h = $rc->new_analyzer(meta => { caddr => '192.0.2.1', cport => 40001 });
#   $rc->data($h, 0, "hello", 0, IMP_DATA_STREAM);
#   my $why = $rc->run(until => sub { $rc->result_count($h) >= 1 }, timeout => 5);
#   my @results = $rc->take_results($h);   # [type, args...], types as integers
#   my @warnings = $rc->take_warnings;
#   $rc->close_analyzer($h);                # Net::IMP::Remote sends delete_analyzer
#   $rc->close;
#
# Analyzers are named by handles (small integers) so that nothing but the
# client itself holds the analyzer objects: dropping one (close_analyzer)
# makes Net::IMP::Remote send delete_analyzer, as a data provider's
# analyzer going out of scope does. Results are copied with their result
# type and log level as plain integers, other values as Net::IMP::Remote
# handed them over.

use v5.36;
use Carp qw(croak);
use AnyEvent ();
use Net::IMP qw(IMP_LOG);
use Net::IMP::Remote ();

our $VERSION = '0.01';

# new(addr => A, impl => 'Storable'|'Sereal', fail => 'hard'|'soft',
# eventlib => OBJ) makes the factory; without eventlib it uses an
# ImpFixture::RemoteClient::EventLib.
sub new ($class, %args) {
    croak 'addr is required' unless defined $args{addr};
    my $self = bless {
        results  => {},
        warnings => [],
        analyzer => {},
        next     => 1,
    }, $class;
    my $ev = delete $args{eventlib} // ImpFixture::RemoteClient::EventLib->new;
    $self->{factory} = $self->_guard(sub {
        Net::IMP::Remote->new_factory(%args, eventlib => $ev);
    }) // croak "Net::IMP::Remote->new_factory failed";
    return $self;
}

# _guard runs $code with the warnings of Net::IMP::Remote collected.
sub _guard ($self, $code) {
    local $SIG{__WARN__} = sub ($msg) {
        chomp $msg;
        push @{ $self->{warnings} }, $msg;
        print STDERR "$msg\n";
    };
    return $code->();
}

# get_interface(@interfaces) asks the server (a blocking call).
sub get_interface ($self, @if) {
    return $self->_guard(sub { $self->{factory}->get_interface(@if) });
}

# set_interface($if) sets the interface and, as a data provider does,
# goes on with the factory it returns; false when it returns none.
sub set_interface ($self, $if) {
    my $f = $self->_guard(sub { $self->{factory}->set_interface($if) }) or return 0;
    $self->{factory} = $f;
    return 1;
}

# new_analyzer(%context) makes an analyzer and returns its handle.
sub new_analyzer ($self, %ctx) {
    my $h = $self->{next}++;
    my $results = $self->{results}{$h} = [];
    my $an = $self->_guard(sub { $self->{factory}->new_analyzer(%ctx) })
        // croak "new_analyzer returned no analyzer";
    $self->_guard(sub {
        $an->set_callback(sub (@r) { push @$results, map { _copy_result($_) } @r });
    });
    $self->{analyzer}{$h} = $an;
    return $h;
}

sub _copy_result ($r) {
    my ($type, @args) = @$r;
    $type += 0;
    $args[3] += 0 if $type == IMP_LOG + 0 && defined $args[3];
    return [$type, @args];
}

sub _analyzer ($self, $h) {
    return $self->{analyzer}{$h} // croak "no analyzer $h";
}

# data($h, $dir, $data, $offset, $type) gives data to an analyzer.
sub data ($self, $h, $dir, $data, $offset = 0, $type = undef) {
    my $an = $self->_analyzer($h);
    $self->_guard(sub { $an->data($dir, $data, $offset, $type) });
    return;
}

# close_analyzer($h) drops the analyzer: Net::IMP::Remote then sends
# delete_analyzer.
sub close_analyzer ($self, $h) {
    $self->_analyzer($h);
    $self->_guard(sub { delete $self->{analyzer}{$h} });
    return;
}

# result_count($h) is the number of results of $h not yet taken.
sub result_count ($self, $h) { return scalar @{ $self->{results}{$h} // [] } }

# take_results($h) returns and forgets the results of $h so far.
sub take_results ($self, $h) { return splice @{ $self->{results}{$h} // [] } }

# warning_count is the number of warnings not yet taken.
sub warning_count ($self) { return scalar @{ $self->{warnings} } }

# take_warnings returns and forgets the warnings so far.
sub take_warnings ($self) { return splice @{ $self->{warnings} } }

# run(until => CODE, timeout => S, idle => S) runs the event loop until
# CODE returns true ("done"), or S seconds pass ("timeout"), or, with
# idle, no result came for that long ("idle"); returns which.
sub run ($self, %opt) {
    my $until = $opt{until} // sub { 0 };
    return 'done' if $until->();
    my $cv = AnyEvent->condvar;
    my $count = sub { my $n = 0; $n += @$_ for values %{ $self->{results} }; $n };
    my $seen = $count->();
    my $last = AnyEvent->now;
    my $check = AnyEvent->timer(after => 0.001, interval => 0.001, cb => sub {
        return $cv->send('done') if $until->();
        my $n = $count->();
        if ($n != $seen) {
            ($seen, $last) = ($n, AnyEvent->now);
        } elsif ($opt{idle} && AnyEvent->now - $last >= $opt{idle}) {
            $cv->send('idle');
        }
    });
    my $timeout = AnyEvent->timer(after => $opt{timeout} // 10, cb => sub { $cv->send('timeout') });
    return $self->_guard(sub { $cv->recv });
}

# close drops every analyzer and the factory (its connection closes).
sub close ($self) {
    $self->_guard(sub {
        %{ $self->{analyzer} } = ();
        delete $self->{factory};
    });
    return;
}

# interface_to_ints($if) returns an interface with its data type and
# result types as plain integers.
sub interface_to_ints ($if) {
    my ($dt, $rt, @rest) = @$if;
    return [defined $dt ? $dt + 0 : undef, $rt ? [map { $_ + 0 } @$rt] : undef];
}

package ImpFixture::RemoteClient::EventLib;

# The eventlib object Net::IMP::Remote asks a data provider for, on
# AnyEvent: onread($fh, $cb) and onwrite($fh, $cb) set (or with no $cb
# remove) the one read or write watcher of a file handle; timer($after,
# $cb, $interval) returns a timer that lives as long as the caller keeps
# it; now is the loop's time.

use v5.36;

sub new ($class) { return bless { r => {}, w => {} }, $class }

sub _watch ($self, $kind, $fh, $cb) {
    my $fn = fileno($fh) // die "invalid file handle\n";
    if ($cb) {
        $self->{$kind}{$fn} = AnyEvent->io(fh => $fh, poll => $kind, cb => $cb);
    } else {
        delete $self->{$kind}{$fn};
    }
    return;
}

sub onread ($self, $fh, $cb = undef)  { return $self->_watch('r', $fh, $cb) }
sub onwrite ($self, $fh, $cb = undef) { return $self->_watch('w', $fh, $cb) }

sub timer ($self, $after, $cb, $interval = undef) {
    return AnyEvent->timer(after => $after, cb => $cb, $interval ? (interval => $interval) : ());
}

sub now ($self) { return AnyEvent->now }

1;
