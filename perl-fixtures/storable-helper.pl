#!/usr/bin/perl
# The Perl side of the Storable conformance suite (conformance/storable):
# Perl's own Storable freezes and thaws on request, over the line protocol
# of ImpFixture::Loop. Images travel as hex, values as tagged JSON.
#
# Requests:
#   {"op":"freeze", "expr":"[1, 2]", "canonical":1}
#       evaluates the Perl expression (a reference) and returns its images
#       nfreeze_hex, freeze_hex, nstore_hex, store_hex, and json, the
#       tagged JSON of what each image thaws to (keys nfreeze, freeze,
#       nstore, store).
#   {"op":"thaw", "images_hex":[...], "refreeze":"nfreeze", "canonical":1}
#       thaws each image (file images with "pst0" through retrieve) and
#       returns per image {"json": ...} or {"error": ...}, plus refrozen_hex
#       when refreeze names nfreeze or freeze.
#   {"op":"random", "seed":N, "count":N}
#       makes count random nested structures from the seed and returns
#       per structure nfreeze_hex and freeze_hex (in Perl's own hash order),
#       canonical_nfreeze_hex and canonical_freeze_hex (sorted keys), and
#       nfreeze_json and freeze_json, what those thaw to.
use v5.36;
use utf8;
use Storable qw(nfreeze freeze nstore store thaw retrieve);
use Hash::Util qw(lock_keys lock_hash);
use File::Temp qw(tempdir);
use ImpFixture::Loop qw(run_loop);
use ImpFixture::TaggedJSON qw(referent_to_tagged_json);
BEGIN { require './storable-classes.pl' }

my $tmp = tempdir(CLEANUP => 1);

sub slurp ($path) {
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

sub spew ($path, $bytes) {
    open my $fh, '>:raw', $path or die "$path: $!";
    print {$fh} $bytes;
    close $fh or die "$path: $!";
}

# thaw_any thaws an in-memory image, or retrieves a file image.
sub thaw_any ($img) {
    if (substr($img, 0, 4) eq 'pst0') {
        spew("$tmp/in", $img);
        return retrieve("$tmp/in");
    }
    my $v = thaw($img);
    die "thaw returned nothing\n" unless defined $v;
    return $v;
}

# The helpers expressions may call, besides the classes of
# storable-classes.pl: Perl values that only some code paths make.
sub alias { return \@_ }                               # elements aliased to the arguments
sub holes ($n, %set) { my @a; $a[$_] = $set{$_} for keys %set; $#a = $n - 1; return \@a }

sub op_freeze ($req) {
    local $Storable::canonical = $req->{canonical} ? 1 : 0;
    my $v = eval "no strict; $req->{expr}";
    die "expression failed: $@" if $@;
    die "expression is not a reference\n" unless ref $v;
    my %img = (nfreeze => nfreeze($v), freeze => freeze($v));
    nstore($v, "$tmp/n") or die "nstore: $!";
    store($v, "$tmp/s") or die "store: $!";
    $img{nstore} = slurp("$tmp/n");
    $img{store} = slurp("$tmp/s");
    my %reply;
    for my $how (keys %img) {
        $reply{"${how}_hex"} = unpack 'H*', $img{$how};
        $reply{json}{$how} = referent_to_tagged_json(thaw_any($img{$how}));
    }
    return \%reply;
}

sub op_thaw ($req) {
    local $Storable::canonical = $req->{canonical} ? 1 : 0;
    my $how = $req->{refreeze} // '';
    my @out;
    for my $hex (@{ $req->{images_hex} }) {
        my $r = eval {
            my $v = thaw_any(pack 'H*', $hex);
            my %r = (json => referent_to_tagged_json($v));
            $r{refrozen_hex} = unpack 'H*', nfreeze($v) if $how eq 'nfreeze';
            $r{refrozen_hex} = unpack 'H*', freeze($v) if $how eq 'freeze';
            \%r;
        };
        if (!$r) {
            my $err = $@ || 'unknown error';
            $err =~ s/\s+\z//;
            $r = { error => $err };
        }
        push @out, $r;
    }
    return { results => \@out };
}

sub op_random ($req) {
    srand($req->{seed});
    my @out;
    for (1 .. $req->{count}) {
        my $v = Random->new->root;
        my %r;
        {
            local $Storable::canonical = 0;
            $r{nfreeze_hex} = unpack 'H*', nfreeze($v);
            $r{freeze_hex} = unpack 'H*', freeze($v);
        }
        {
            local $Storable::canonical = 1;
            my ($n, $f) = (nfreeze($v), freeze($v));
            $r{canonical_nfreeze_hex} = unpack 'H*', $n;
            $r{canonical_freeze_hex} = unpack 'H*', $f;
            $r{nfreeze_json} = referent_to_tagged_json(thaw($n));
            $r{freeze_json} = referent_to_tagged_json(thaw($f));
        }
        push @out, \%r;
    }
    return { results => \@out };
}

# Random nested structures with what Perl's Storable writes: every kind of
# scalar, containers, shared and cyclic references, weak references,
# blessed objects, hooks, overloading, restricted hashes, holes.
package Random {
    use Scalar::Util qw(weaken);
    use Hash::Util qw(lock_keys lock_value);

    sub new ($class) { return bless { pool => [], nodes => 0 }, $class }

    sub pick (@list) { return $list[ int rand @list ] }

    sub chars ($self, $max) {
        my $n = int rand $max;
        my $kind = int rand 3;
        return join '', map { chr(32 + int rand 95) } 1 .. $n if $kind == 0;
        return join '', map { chr(int rand 256) } 1 .. $n if $kind == 1;
        return join '', map { chr(pick(0x41, 0xe9, 0x263a, 0x1F600, 0x10FFFD, 0x100 + int rand 0xD000)) } 1 .. $n;
    }

    sub scalar ($self) {
        my $k = int rand 16;
        return undef if $k == 0;
        return int(rand 256) - 128 if $k == 1;
        return int(rand 2**32) - 2**31 if $k == 2;
        return (int(rand 2**31) * 2**31 + int rand 2**31) * pick(1, -1) if $k == 3;
        return 18446744073709551615 - int rand 1000 if $k == 4;
        return (rand() - 0.5) * 10**(int(rand 40) - 20) if $k == 5;
        return pick(0.5, -0.25, 1e300, 2**53, 2**63, 9**9**9, -9**9**9) if $k == 6;
        return int(rand 100) . '' if $k == 7;
        return $self->chars(300) if $k <= 10;
        if ($k == 11) { my $s = $self->chars(20); utf8::upgrade($s); return $s }
        return pick(v1.2.3, v65.66.67, v9786.1) if $k == 12;
        return !!1 if $k == 13;
        return !!0 if $k == 14;
        return 'x' x (256 + int rand 300);
    }

    sub value ($self, $depth) {
        $self->{nodes}++;
        my $k = $depth > 4 || $self->{nodes} > 60 ? 0 : int rand 14;
        return $self->scalar if $k <= 4;
        if ($k == 5 && @{ $self->{pool} }) {    # shared, maybe weak (the pool keeps a strong one)
            my $r = pick(@{ $self->{pool} });
            weaken($r) if rand() < 0.3;
            return $r;
        }
        my $r;
        if ($k <= 7) {
            my @a = map { $self->value($depth + 1) } 1 .. int rand 6;
            $r = \@a;
        } elsif ($k <= 9) {
            my %h = map { $self->chars(12) => $self->value($depth + 1) } 1 .. int rand 6;
            $r = \%h;
        } elsif ($k == 10) {
            my $s = $self->value($depth + 1);
            $r = \$s;
        } elsif ($k == 11) {
            $r = $self->object($depth);
        } elsif ($k == 12) {
            $r = $self->special($depth);
        } else {
            $r = pick(qr/a.b/, qr/x y/x, qr/caf\xe9/i, qr/\d+/ms);
        }
        push @{ $self->{pool} }, $r if rand() < 0.5;
        return $r;
    }

    sub object ($self, $depth) {
        my $k = int rand 6;
        return bless { map { $self->chars(5) => $self->value($depth + 1) } 1 .. int rand 4 }, pick('Foo', 'Bar::Baz') if $k == 0;
        return bless [ map { $self->value($depth + 1) } 1 .. int rand 4 ], pick('Foo', 'A::' . 'Long' x 40) if $k == 1;
        if ($k == 2) { my $s = $self->scalar; return bless \$s, 'Sc' }
        return StOverload->new($self->value($depth + 1)) if $k == 3;
        return StHookArray->new($self->chars(10), map { \$self->value($depth + 1) } 1 .. int rand 3) if $k == 4;
        my @refs = map { my $v = $self->value($depth + 1); ref $v ? $v : \$v } 1 .. int rand 3;
        return StHook->new(f => $self->chars(300), r => \@refs);
    }

    sub special ($self, $depth) {
        my $k = int rand 5;
        if ($k == 0) {    # restricted hash with a placeholder and locked values
            my %h = map { $self->chars(6) => $self->scalar } 1 .. 1 + int rand 3;
            lock_keys(%h, keys %h, 'absent' . int rand 100);
            lock_value(%h, (keys %h)[0]);
            return \%h;
        }
        return main::holes(2 + int rand 4, 1 => $self->scalar) if $k == 1;
        return main::alias(undef, $self->scalar) if $k == 2;
        if ($k == 3) { my @a = ($self->scalar); push @a, \@a; return \@a }    # a cycle
        my @a = ($self->scalar, 1);
        return [ \@a, \$a[0] ];    # a reference to an element
    }

    sub root ($self) {
        my $v = $self->value(0);
        return ref $v ? $v : \$v;
    }
}

run_loop({ freeze => \&op_freeze, thaw => \&op_thaw, random => \&op_random });
