#!/usr/bin/perl
# sa_targets.pl - print the rule targets SpamAssassin sees for messages, as
# independent goldens for scanner/text (tests/unit/text/test_text.c).
#
# Usage: sa_targets.pl [-o OUTDIR] FILE...
#   Without -o, one record set per file goes to stdout; with -o, each FILE's
#   records go to OUTDIR/<basename>.exp.
#
# Format (one record per line, strings as lower-case hex of their bytes so
# every byte survives; "-" stands for the empty string):
#   sa <version>
#   body <hex>                 one per element of get_decoded_stripped_body_text_array
#   rawbody <hex>              one per element of get_decoded_body_text_array
#   uri <hex>                  get_uri_list, sorted bytewise
#   hdr <spec> 1 <hex>         header rule text: @a = get(spec) joined as Check.pm
#   hdr <spec> 0 -             get(spec) returned nothing (header absent)
use strict;
use warnings;
use Mail::SpamAssassin;
use Mail::SpamAssassin::PerMsgStatus;

my @SPECS = qw(Subject From To Cc ToCc ALL MESSAGEID From:addr From:name To:addr
  Cc:addr Reply-To:addr Sender:addr Return-Path:addr Subject:raw From:raw To:raw
  Content-Type X-Mailer Message-Id Date Received References List-Id
  From:first From:last Received:first Received:last);

my $outdir;
if (@ARGV && $ARGV[0] eq '-o') { shift @ARGV; $outdir = shift @ARGV; }

my $sa = Mail::SpamAssassin->new({
  local_tests_only => 1, dont_copy_prefs => 1, userprefs_filename => '/dev/null',
  userstate_dir => '/tmp/sa_targets_state', post_config_text => "use_bayes 0\n",
});
$sa->init(1);

sub hx { my $s = shift; utf8::encode($s) if utf8::is_utf8($s);
  return $s eq '' ? '-' : unpack('H*', $s); }

for my $f (@ARGV) {
  open(my $fh, '<:raw', $f) or die "$f: $!";
  my $text = do { local $/; <$fh> };
  close $fh;
  my $msg = $sa->parse($text);
  my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $msg);
  $pms->extract_message_metadata();
  my @out = ("sa $Mail::SpamAssassin::VERSION");
  push @out, "body " . hx($_) for @{$pms->get_decoded_stripped_body_text_array()};
  push @out, "rawbody " . hx($_) for @{$pms->get_decoded_body_text_array()};
  my @u = map { my $x = $_; utf8::encode($x) if utf8::is_utf8($x); $x } $pms->get_uri_list();
  push @out, "uri " . hx($_) for sort @u;
  for my $spec (@SPECS) {
    my @harr = $pms->get($spec);
    if (@harr) {
      my $hval = join($harr[0] =~ /\n\z/ ? "" : "\n", @harr);
      push @out, "hdr $spec 1 " . hx($hval);
    } else {
      push @out, "hdr $spec 0 -";
    }
  }
  $pms->finish();
  $msg->finish();
  my $o;
  if (defined $outdir) {
    (my $b = $f) =~ s{.*/}{};
    $b =~ s/\.[^.\/]+\z//;
    open($o, '>:raw', "$outdir/$b.exp") or die "$outdir/$b.exp: $!";
  } else {
    $o = \*STDOUT;
    print $o "file $f\n";
  }
  print $o "$_\n" for @out;
  close $o if defined $outdir;
}
