#!/usr/bin/perl
# sa_hits.pl — SpamAssassin's own rule hits, one JSON object per message.
#
#   sa_hits.pl [--rules PATH]... [--skip N] [--max N] [--rules-json FILE]
#              [--quiet] MBOX-OR-MESSAGE...
#
# Runs Mail::SpamAssassin in-process the way vigil is compared with it:
# network tests off (local_tests_only), no Bayes, no auto-welcomelist, the
# rule files of --rules (default /usr/share/spamassassin, nothing else),
# the plugins of the stock /etc/spamassassin/*.pre files (copied into a
# temporary site directory, so no local.cf is read) and an empty user
# preferences file.
#
# Input: mbox files (mboxrd quoting undone, like vigil's corpus reader) or
# single message files (anything whose first line is not a From_ line).
# Output, one line per message:
#   {"source":PATH,"index":N,"hits":[sorted rule names],"ms":MILLISECONDS}
# hits = get_names_of_tests_hit + get_names_of_subtests_hit ("__" rules).
# --skip N / --max N: leave out the first N messages of each file / stop
# after N messages of each file (indexes stay those of the file, so runs
# over slices of a file can be merged).
# --rules-json FILE writes {NAME: {"type":..., "eval":0|1, "score":S,
# "tflags":..., "deps":[...]}} for every rule SpamAssassin loaded (score:
# score set 0; deps: a meta's operands).
# A summary (messages, total seconds, messages/s) goes to standard error.
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use Getopt::Long;
use JSON::PP;
use Time::HiRes qw(time);
use Mail::SpamAssassin;
use Mail::SpamAssassin::Plugin::Check;

# SpamAssassin 4.0.1 matches rules with /o (compile once), so a rule with
# a capture template (%{NAME}) keeps the values of the first message a
# process checks, in spamd as here; `spamassassin -t` on one message
# substitutes that message's values, which vigil does on every message.
# Compared per message, the code of template rules drops the /o.
{
  no warnings 'redefine';
  my $add = \&Mail::SpamAssassin::Plugin::Check::add_evalstr;
  *Mail::SpamAssassin::Plugin::Check::add_evalstr = sub {
    my ($self, $pms, $str) = @_;
    if (defined $str && index($str, 'capture_template_rules') >= 0) {
      $str =~ s{/\$test_qr/(\w*)}{my $f = $1; $f =~ tr/o//d; "/\$test_qr/$f"}ge;
    }
    return $add->($self, $pms, $str);
  };
}

my @rules;
my $max = 0;
my $skip = 0;
my $rules_json;
my $quiet = 0;
GetOptions('rules=s' => \@rules, 'max=i' => \$max, 'skip=i' => \$skip,
           'rules-json=s' => \$rules_json, 'quiet' => \$quiet)
  or die "usage: sa_hits.pl [--rules PATH]... [--max N] [--rules-json F] FILE...\n";
@rules = ('/usr/share/spamassassin') unless @rules;

my $tmp = tempdir('sa_hits.XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$tmp/site" or die "mkdir: $!";
for my $pre (glob('/etc/spamassassin/*.pre')) {
  copy($pre, "$tmp/site/") or die "copy $pre: $!";
}
open(my $up, '>', "$tmp/user_prefs") or die "user_prefs: $!";
close $up;

my $t_load = time;
my $sa = Mail::SpamAssassin->new({
  rules_filename       => join("\000", @rules),
  site_rules_filename  => "$tmp/site",
  userprefs_filename   => "$tmp/user_prefs",
  home_dir_for_helpers => $tmp,
  languages_filename   => "/usr/share/spamassassin/languages",
  local_tests_only     => 1,
  dont_copy_prefs      => 1,
  post_config_text     => "use_bayes 0\nbayes_auto_learn 0\n"
                        . "use_auto_welcomelist 0\nuse_txrep 0\n",
});
$sa->compile_now(0, 1);
my $load_s = time - $t_load;

dump_rules($sa->{conf}, $rules_json) if defined $rules_json;

my $json = JSON::PP->new->canonical(1);
my ($n, $t_total) = (0, 0);
for my $path (@ARGV) {
  my ($index, $done) = (0, 0);
  my $each = sub {
    my ($text) = @_;
    if ($index < $skip) { $index++; return 1; }
    my $t0 = time;
    # SpamAssassin's MIME parser chomps the line end before a boundary
    # with $/, which spamd and the spamassassin script leave at "\n" (a
    # single file is read with $/ undefined, under which chomp would
    # remove nothing).
    local $/ = "\n";
    my $mail = $sa->parse($text, 1);
    my $status = $sa->check($mail);
    my @hits = grep { length } split(/,/, $status->get_names_of_tests_hit());
    push @hits, @{$status->{subtest_names_hit} || []};
    my %seen;
    @hits = sort grep { !$seen{$_}++ } @hits;
    $status->finish();
    $mail->finish();
    my $ms = (time - $t0) * 1000;
    $t_total += $ms / 1000;
    print $json->encode({ source => $path, index => $index, hits => \@hits,
                          ms => 0 + sprintf('%.3f', $ms) }), "\n";
    $index++;
    $n++;
    $done++;
    return !($max && $done >= $max);
  };
  read_messages($path, $each);
}
printf STDERR "sa_hits: %d messages in %.2f s (%.1f msg/s), load %.2f s\n",
  $n, $t_total, $t_total > 0 ? $n / $t_total : 0, $load_s
  unless $quiet;
exit 0;

# Call $each->(\$text) for every message of $path; stop early (return 0)
# when it returns false.
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

# The blank line before the next From_ line separates messages in mbox.
sub strip_sep {
  my ($m) = @_;
  $m =~ s/\r?\n\z// if $m =~ /\n\r?\n\z/;
  return $m;
}

sub dump_rules {
  my ($conf, $file) = @_;
  my %out;
  my %mime = %{$conf->{mimeheader_tests} || {}};
  for my $name (keys %{$conf->{test_types}}) {
    my $t = $conf->{test_types}{$name};
    my $type = $Mail::SpamAssassin::Conf::TYPE_AS_STRING{$t} // "type$t";
    my $eval = ($t == $Mail::SpamAssassin::Conf::TYPE_HEAD_EVALS
             || $t == $Mail::SpamAssassin::Conf::TYPE_BODY_EVALS
             || $t == $Mail::SpamAssassin::Conf::TYPE_FULL_EVALS
             || $t == $Mail::SpamAssassin::Conf::TYPE_RAWBODY_EVALS
             || $t == $Mail::SpamAssassin::Conf::TYPE_URI_EVALS
             || $t == $Mail::SpamAssassin::Conf::TYPE_RBL_EVALS) ? 1 : 0;
    if (exists $mime{$name}) { $type = 'mimeheader'; $eval = 0; }
    $out{$name} = { type => $type, eval => $eval,
                    score => 0 + ($conf->{scoreset}[0]{$name} // 0),
                    tflags => $conf->{tflags}{$name} // '',
                    deps => [ @{$conf->{meta_dependencies}{$name} || []} ] };
  }
  open(my $fh, '>', $file) or die "$file: $!";
  print $fh JSON::PP->new->canonical(1)->encode(\%out), "\n";
  close $fh;
}
