#!/usr/bin/perl
# tests/sa/sa_hits.pl -- run real SpamAssassin (Mail::SpamAssassin API) over a
# corpus and print, per message, the score, the rules hit and the sub-rules
# (__ rules) hit.  One long-lived process (optionally forked into N workers
# after the rules are compiled), instead of one `spamassassin` per message.
#
# Usage:
#   sa_hits.pl --corpus DIR --site DIR [--rules DIR] [--prefs FILE]
#              [--state DIR] [--jobs N] [--limit N] SUBDIR...
#
# Output (stdout), one line per message, sorted by path:
#   path<TAB>score<TAB>hits<TAB>subhits
# path is relative to --corpus; hits and subhits are comma-separated, sorted,
# de-duplicated ("" when none).  score is SA's total score, %.3f.
# Messages are read in raw bytes, exactly as stored on disk.
#
# Called by tests/sa/run-spamassassin; see that script for the full setup.
use strict;
use warnings;
use Getopt::Long;
use File::Temp qw(tempdir);
use POSIX qw(_exit);
use Mail::SpamAssassin;

my ($corpus, $site, $prefs, $state);
my $rules = '/usr/share/spamassassin';
my $jobs  = 1;
my $limit = 0;
GetOptions(
  'corpus=s' => \$corpus,
  'site=s'   => \$site,
  'rules=s'  => \$rules,
  'prefs=s'  => \$prefs,
  'state=s'  => \$state,
  'jobs=i'   => \$jobs,
  'limit=i'  => \$limit,
) or die "usage: $0 --corpus DIR --site DIR [--rules DIR] [--jobs N] SUBDIR...\n";
die "--corpus and --site are required\n" unless $corpus && $site;
my @subdirs = @ARGV ? @ARGV : qw(easy_ham hard_ham spam);

$state ||= tempdir(CLEANUP => 1);
unless ($prefs) {
  $prefs = "$state/user_prefs";
  open(my $fh, '>', $prefs) or die "$prefs: $!";
  close $fh;
}

# --- message list ---------------------------------------------------------
my @files;
for my $sd (@subdirs) {
  opendir(my $dh, "$corpus/$sd") or die "$corpus/$sd: $!";
  push @files, map { "$sd/$_" } grep { -f "$corpus/$sd/$_" && !/^\./ } readdir $dh;
  closedir $dh;
}
@files = sort @files;
@files = @files[0 .. $limit - 1] if $limit && $limit < @files;
die "no messages found under $corpus\n" unless @files;

# --- SpamAssassin 4.0.1 bug work-around: per-message capture templates -------
# Check.pm generates `$l =~ /$test_qr/op` for every regex rule.  For rules
# whose regex holds a capture template (%{TAG}, e.g. the GB_* rules of
# 72_active.cf using %{GB_TO_ADDR}), $test_qr is rebuilt per message with the
# captured value, but /o makes Perl compile it only once per process: every
# later message is matched against the first message's value.  A one-shot
# `spamassassin` never sees this; spamd and this long-running driver would.
# Dropping /o changes nothing for the other rules ($test_qr is then a qr//
# object, reused without recompiling) and gives every message the
# per-message semantics a fresh process has.
{
  no warnings 'redefine';
  require Mail::SpamAssassin::Plugin::Check;
  for my $name (qw(add_evalstr add_evalstr_corked add_evalstr2)) {
    my $orig = Mail::SpamAssassin::Plugin::Check->can($name) or die "no Check::$name";
    no strict 'refs';
    *{"Mail::SpamAssassin::Plugin::Check::$name"} = sub {
      my @a = @_;
      $a[-1] =~ s{/\$test_qr/(g?)op}{/\$test_qr/$1p}g if defined $a[-1];
      $a[-1] =~ s{(/\$test_qr/'\.\$matchg\.')op'}{$1p'}g if defined $a[-1];
      return $orig->(@a);
    };
  }
}

# --- SpamAssassin, stock rules, local tests only -----------------------------
my $sa = Mail::SpamAssassin->new({
  rules_filename       => $rules,
  site_rules_filename  => $site,
  userprefs_filename   => $prefs,
  userstate_dir        => $state,
  home_dir_for_helpers => $state,
  dont_copy_prefs      => 1,
  local_tests_only     => 1,
  require_rules        => 1,
  skip_prng_reseeding  => 1,
});
$sa->compile_now(0, 1);    # load + compile every rule before forking
srand(42);

sub scan_one {
  my ($rel) = @_;
  my $path = "$corpus/$rel";
  # $/ must be undef only for this read: SA itself uses chomp/readline
  my $text = do {
    open(my $fh, '<:raw', $path) or die "$path: $!";
    local $/;
    <$fh>;
  };
  my $mail = $sa->parse($text, 0);
  my $pms  = $sa->check($mail);
  my %h = map { $_ => 1 } grep { length } split /,/, $pms->get_names_of_tests_hit();
  my %s = map { $_ => 1 } @{ $pms->{subtest_names_hit} || [] };
  my $line = sprintf("%s\t%.3f\t%s\t%s\n", $rel, $pms->get_score(),
                     join(',', sort keys %h), join(',', sort keys %s));
  $pms->finish();
  $mail->finish();
  return $line;
}

# --- run, $jobs workers each taking every $jobs-th message -----------------
$jobs = 1 if $jobs < 1;
my $outdir = tempdir(CLEANUP => 1);
my @pids;
for my $w (0 .. $jobs - 1) {
  my $pid = fork();
  die "fork: $!" unless defined $pid;
  if ($pid == 0) {
    srand(42 + $w);
    open(my $out, '>', "$outdir/w$w") or die;
    for (my $i = $w; $i < @files; $i += $jobs) {
      my $line = eval { scan_one($files[$i]) };
      if (!defined $line) {
        warn "sa_hits: $files[$i]: $@";
        $line = "$files[$i]\tERROR\t\t\n";
      }
      print $out $line;
      printf STDERR "sa_hits: %d/%d\n", $i + 1, scalar @files
        if $w == 0 && ($i / $jobs) % 250 == 0;
    }
    close $out or die;
    _exit(0);
  }
  push @pids, $pid;
}
my $fail = 0;
for my $pid (@pids) { waitpid($pid, 0); $fail ||= $? }
die "sa_hits: a worker failed\n" if $fail;

my @lines;
for my $w (0 .. $jobs - 1) {
  open(my $in, '<', "$outdir/w$w") or die;
  push @lines, <$in>;
  close $in;
}
die sprintf("sa_hits: got %d lines for %d messages\n", scalar @lines, scalar @files)
  unless @lines == @files;
print sort @lines;
$sa->finish();
