package ImpFixture::Plugin::Run;

# Runs IMP plugins in-process through Net::IMP, the way imprpc_server.pl
# drives them, and records what they do, for the recordings the Go
# plugins are tested against (perl-fixtures/pattern-record.pl,
# cascade-record.pl, testplugin-record.pl). Not a plugin itself: it lives
# beside the test plugins it runs.
#
#   use ImpFixture::Plugin::Run qw(run_case write_recording);
#   my $rec = run_case({
#       name    => 'deny on secret',
#       factory => { plugin => 'Net::IMP::Pattern', config => 'string=secret&action=deny&actdata=x' },
#       context => undef,                     # tagged JSON text, or undef for {}
#       steps   => [ { dir => 0, type => -1, offset => 0, data_hex => '...' }, ... ],
#       interface => { offered => [[-1, [4097, 4352]]], set => [-1, [...]] },   # optional
#   });
#
# A factory is { plugin => CLASS, config => STR2CFG-STRING } or
# { cascade => [ FACTORY, ... ] } (Net::IMP::Cascade with those parts).
# The recording repeats the case and adds:
#
#   config_errors  what str2cfg/validate_cfg said (no analyzer is made then)
#   interface      {reply => [...], set_ok => 0|1, died => "..."}
#   declined       1 when new_analyzer returned nothing
#   new_died       the message when new_analyzer died
#                  (with either, the steps are kept as given, without
#                  results)
#   init           results before the first data (delivered at set_callback)
#   steps[i]       + results: the results of this data call,
#                  + died: the message when the call died; later steps
#                    are run as imprpc_server.pl would (it goes on with
#                    the next frame), but what Perl does after a die
#                    depends on where it died: compare with care
#
# A result is {result => TAGGED-JSON of [type, args...], utf8 => [i...]}:
# the result type and a log level as the integers the wire carries, the
# other arguments as the plugin made them (integer or string, as Perl's
# flags say), and the indexes (into args, 0-based) of arguments that are
# UTF-8 strings. Messages of die have file and line removed.

use v5.36;
use Exporter qw(import);
use JSON::PP ();
use Net::IMP qw(:DEFAULT :log);
use Net::IMP::Cascade;
use ImpFixture::TaggedJSON qw(to_tagged_json referent_from_tagged_json);

our $VERSION = '0.01';
our @EXPORT_OK = qw(run_case write_recording clean_message);

my %rtype = map { ($_ + 0) => $_ } (
    IMP_PASS, IMP_PASS_PATTERN, IMP_PREPASS, IMP_DENY, IMP_DROP, IMP_FATAL,
    IMP_TOSENDER, IMP_REPLACE, IMP_REPLACE_LATER, IMP_PAUSE, IMP_CONTINUE,
    IMP_LOG, IMP_PORT_OPEN, IMP_PORT_CLOSE, IMP_ACCTFIELD,
);

# clean_message drops " at FILE line N." (and Perl's input position) from
# a die or croak message, so that no machine path gets recorded.
sub clean_message ($msg) {
    $msg = "$msg";
    $msg =~ s/ at \S+ line \d+(?:, <\w*> (?:line|chunk) \d+)?\.?$//mg;
    $msg =~ s/\s+\z//;
    return $msg;
}

# make_factory returns the factory for a spec, or (undef, @errors).
sub make_factory ($spec) {
    if (my $parts = $spec->{cascade}) {
        my (@f, @err);
        for my $p (@$parts) {
            my ($f, @e) = make_factory($p);
            push @f, $f;
            push @err, @e;
        }
        return (undef, @err) if @err;
        return Net::IMP::Cascade->new_factory(parts => \@f);
    }
    my $class = $spec->{plugin};
    eval "require $class; 1" or die "cannot load $class: $@";
    my %cfg = eval { $class->str2cfg($spec->{config} // '') };
    return (undef, clean_message($@)) if $@;
    my @err = do { no warnings; $class->validate_cfg(%cfg) };
    return (undef, map { clean_message($_) } @err) if @err;
    return $class->new_factory(%cfg);
}

sub result_value ($r) {
    my @v = @$r;
    $v[0] = $v[0] + 0;
    $v[4] = $v[4] + 0 if $v[0] == IMP_LOG && defined $v[4] && !ref $v[4];
    my @utf8 = grep { defined $v[$_ + 1] && !ref $v[$_ + 1] && utf8::is_utf8($v[$_ + 1]) } 0 .. $#v - 1;
    return { result => to_tagged_json(\@v), utf8 => \@utf8 };
}

sub dual_if ($if) {
    my ($dt, $rt) = @$if;
    return [ $dt, $rt ? [ map { $rtype{$_} // $_ } @$rt ] : undef ];
}

sub num_if ($if) {
    my ($dt, $rt) = @$if;
    return [ defined $dt ? $dt + 0 : undef, $rt ? [ map { defined $_ ? $_ + 0 : undef } @$rt ] : undef ];
}

# run_case runs one case and returns its recording (see above).
sub run_case ($case) {
    my %rec = %$case;
    my ($factory, @err) = make_factory($case->{factory});
    $rec{config_errors} = \@err;
    if (!$factory) {
        delete $rec{steps};
        return \%rec;
    }
    if (my $if = $case->{interface}) {
        my %ans;
        my $ok = eval {
            $ans{reply} = [ map { num_if($_) } $factory->get_interface(map { dual_if($_) } @{ $if->{offered} }) ];
            if ($if->{set}) {
                my $nf = $factory->set_interface(dual_if($if->{set}));
                $ans{set_ok} = $nf ? 1 : 0;
                $factory = $nf if $nf;
            }
            1;
        };
        $ans{died} = clean_message($@) if !$ok;
        $rec{interface} = { %$if, %ans };
    }
    return \%rec if !$case->{steps};

    my $ctx = defined $case->{context} ? referent_from_tagged_json($case->{context}) : {};
    my @got;
    my $an = eval { $factory->new_analyzer(%$ctx) };
    if (!$an) {    # the steps stay, without results, for the Go side
        if ($@) { $rec{new_died} = clean_message($@) } else { $rec{declined} = 1 }
        return \%rec;
    }
    my $ok = eval { $an->set_callback(sub { push @got, map { result_value($_) } @_ }); 1 };
    if (!$ok) {
        $rec{new_died} = clean_message($@);
        return \%rec;
    }
    $rec{init} = [ splice @got ];
    my @steps;
    for my $step (@{ $case->{steps} }) {
        my %s = %$step;
        my $data = pack 'H*', $step->{data_hex};
        local $_;    # Net::IMP::Cascade reads $_ by mistake (replace_later)
        eval { $an->data($step->{dir}, $data, $step->{offset}, $step->{type}); 1 }
            or $s{died} = clean_message($@);
        $s{results} = [ splice @got ];
        push @steps, \%s;
    }
    $rec{steps} = \@steps;
    return \%rec;
}

# write_recording prints a recording file: a generator description (the
# script, its output file, the versions, the command that regenerates it)
# and the recorded cases, one case per line (so that changes diff well).
sub write_recording ($fh, $generator, @recs) {
    my $json = JSON::PP->new->utf8->canonical;
    my %gen = (
        %$generator,
        perl       => sprintf('%vd', $^V),
        net_imp    => $Net::IMP::VERSION,
        regenerate => "PERL5LIB=<p5-net-imp>/lib:perl-fixtures/lib PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 "
            . "perl $generator->{script} > $generator->{output}",
        source     => 'the real Net::IMP plugins, run in-process by ImpFixture::Plugin::Run',
    );
    print {$fh} '{"generator":', $json->encode(\%gen), ",\n\"cases\":[\n";
    print {$fh} join(",\n", map { $json->encode($_) } @recs);
    print {$fh} "\n]}\n";
    return;
}

1;
