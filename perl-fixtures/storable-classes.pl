# Perl classes used by the Storable test scripts (storable-*.pl): objects
# with STORABLE_freeze hooks of every kind and a class with overloaded
# operators, so that Perl writes SX_HOOK and SX_OVERLOAD.
#
#   require "./storable-classes.pl";    # from perl-fixtures/
use v5.36;

# A hook object whose STORABLE_freeze returns the frozen string in {f} and
# the references in {r}; its STORABLE_thaw puts them back.
package StHook {
    sub new ($class, %args) { return bless {%args}, $class }
    sub STORABLE_freeze ($self, $cloning) { return ($self->{f} // '', @{ $self->{r} // [] }) }
    sub STORABLE_thaw ($self, $cloning, $frozen, @refs) {
        $self->{f} = $frozen;
        $self->{r} = \@refs if @refs;
        return;
    }
}

# The same for a blessed array: [frozen, refs...].
package StHookArray {
    sub new ($class, $frozen, @refs) { return bless [$frozen, @refs], $class }
    sub STORABLE_freeze ($self, $cloning) { return @$self }
    sub STORABLE_thaw ($self, $cloning, $frozen, @refs) { @$self = ($frozen, @refs); return }
}

# The same for a blessed scalar holding the frozen string.
package StHookScalar {
    sub new ($class, $frozen) { return bless \$frozen, $class }
    sub STORABLE_freeze ($self, $cloning) { return ($$self) }
    sub STORABLE_thaw ($self, $cloning, $frozen) { $$self = $frozen; return }
}

# A class with overloaded operators: references to its objects are
# written as SX_OVERLOAD.
package StOverload {
    use overload '""' => sub { 'StOverload' }, fallback => 1;
    sub new ($class, $v) { return bless { v => $v }, $class }
}

1;
