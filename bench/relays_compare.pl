#!/usr/bin/perl
# relays_compare.pl — SpamAssassin's X-Spam-Relays-* strings per message,
# and their comparison with vigil's (bench/relays_dump).
#
#   relays_compare.pl [--conf FILE]... [--vigil FILE] [--diff N]
#                     MBOX-OR-MESSAGE...
#
# Without --vigil: prints, per message, one line
#   SOURCE<TAB>INDEX<TAB>TRUSTED<TAB>UNTRUSTED<TAB>INTERNAL<TAB>EXTERNAL
#   <TAB>TRUST-BOUNDARY<TAB>INTERNAL-BOUNDARY
# (the boundaries: last_trusted_relay_index + 1, last_internal_relay_index
# + 1, which split the headers for the ALL-TRUSTED/... views)
# (SpamAssassin 4 in-process, network off, stock rules, no local.cf: the
# set-up of bench/sa_hits.pl; only the message metadata is extracted, no
# rule runs). --conf FILE (repeatable) appends the file's lines to the
# configuration, after the stock rules: give it the trusted_networks /
# internal_networks / msa_networks lines bench/relays_dump --conf reads.
# With --vigil FILE (lines of the same format, written by
# bench/relays_dump on the same inputs): prints the % of messages whose
# strings are identical, per pseudo-header, and the first N differences
# (--diff, default 5).
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use Getopt::Long;
use Mail::SpamAssassin;
use Mail::SpamAssassin::PerMsgStatus;

my ($vigil, $ndiff, @conf) = (undef, 5);
GetOptions('vigil=s' => \$vigil, 'diff=i' => \$ndiff, 'conf=s' => \@conf)
  or die "usage: relays_compare.pl [--conf FILE]... [--vigil FILE] "
       . "[--diff N] FILE...\n";
my $extra = '';
for my $f (@conf) {
  open(my $cf, '<', $f) or die "$f: $!";
  local $/;
  $extra .= <$cf> . "\n";
  close $cf;
}

my $tmp = tempdir('relays_cmp.XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$tmp/site" or die "mkdir: $!";
copy($_, "$tmp/site/") or die "copy $_: $!" for glob('/etc/spamassassin/*.pre');
open(my $up, '>', "$tmp/user_prefs") or die "user_prefs: $!";
close $up;
my $sa = Mail::SpamAssassin->new({
  rules_filename       => '/usr/share/spamassassin',
  site_rules_filename  => "$tmp/site",
  userprefs_filename   => "$tmp/user_prefs",
  home_dir_for_helpers => $tmp,
  local_tests_only     => 1,
  dont_copy_prefs      => 1,
  post_config_text     => "use_bayes 0\nbayes_auto_learn 0\n"
                        . "use_auto_welcomelist 0\nuse_txrep 0\n" . $extra,
});
$sa->compile_now(0, 1);

my @tags = qw(RELAYSTRUSTED RELAYSUNTRUSTED RELAYSINTERNAL RELAYSEXTERNAL);
my @names = qw(Trusted Untrusted Internal External
               trust-boundary internal-boundary);
my %vig;
if (defined $vigil) {
  open(my $fh, '<', $vigil) or die "$vigil: $!";
  while (<$fh>) {
    chomp;
    my @f = split /\t/, $_, -1;
    $vig{"$f[0]\t$f[1]"} = [ map { $_ // '<missing>' } @f[2..7] ];
  }
  close $fh;
}
my (@same, $n, $shown) = ((0) x 6);
$n = 0; $shown = 0;
for my $path (@ARGV) {
  my $index = 0;
  read_messages($path, sub {
    my ($text) = @_;
    my $mail = $sa->parse($text, 1);
    my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $mail);
    $pms->extract_message_metadata();
    my @s = map { my $v = $pms->get_tag($_) // ''; $v =~ s/[\t\n]/ /g; $v }
            @tags;
    push @s, map { ($pms->{$_} // -1) + 1 }
             qw(last_trusted_relay_index last_internal_relay_index);
    $pms->finish();
    $mail->finish();
    if (!defined $vigil) {
      print join("\t", $path, $index, @s), "\n";
    } else {
      my $v = $vig{"$path\t$index"} || [ ('<missing>') x 6 ];
      my $diff = 0;
      for my $i (0..5) {
        if ($s[$i] eq $v->[$i]) { $same[$i]++ } else { $diff = 1 }
      }
      if ($diff && $shown < $ndiff) {
        $shown++;
        print "DIFF $path #$index\n";
        for my $i (0..5) {
          next if $s[$i] eq $v->[$i];
          print "  $names[$i] sa:    $s[$i]\n  $names[$i] vigil: $v->[$i]\n";
        }
      }
    }
    $index++;
    $n++;
    return 1;
  });
}
if (defined $vigil) {
  for my $i (0..5) {
    printf "%-24s %5d/%d identical (%.2f %%)\n",
      ($i < 4 ? "X-Spam-Relays-" : "") . $names[$i],
      $same[$i], $n, $n ? 100 * $same[$i] / $n : 0;
  }
}
exit 0;

# The mbox reading of bench/sa_hits.pl (mboxrd quoting undone).
sub read_messages {
  my ($path, $each) = @_;
  open(my $fh, '<:raw', $path) or do { warn "$path: $!\n"; return 1 };
  my $first = <$fh>;
  return 1 unless defined $first;
  if ($first !~ /^From /) {
    local $/;
    my $rest = <$fh> // '';
    close $fh;
    return $each->($first . $rest);
  }
  my $msg = '';
  while (my $line = <$fh>) {
    if ($line =~ /^From /) {
      $each->(strip_sep($msg)) or return 0;
      $msg = '';
      next;
    }
    $line =~ s/^>(>*From )/$1/;
    $msg .= $line;
  }
  close $fh;
  return $each->(strip_sep($msg)) if length $msg;
  return 1;
}

sub strip_sep {
  my ($m) = @_;
  $m =~ s/\r?\n\z/\n/ if $m =~ /\n\r?\n\z/;
  return $m;
}
