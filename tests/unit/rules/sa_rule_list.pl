#!/usr/bin/perl
# sa_rule_list.pl - print the rules SpamAssassin itself loads, one per line:
#   NAME TAB TYPE TAB SCORE0 SCORE1 SCORE2 SCORE3
# TYPE is header, body, rawbody, uri, full, meta or empty (SA's TYPE_AS_STRING).
# Usage: sa_rule_list.pl [RULES_DIR [SITE_DIR]]
# Defaults: /usr/share/spamassassin and /etc/spamassassin, as installed by the
# Debian spamassassin package. Dies (exit != 0) when Mail::SpamAssassin is
# missing, so a CTest comparison fails rather than skips.
use strict;
use warnings;
use Mail::SpamAssassin;

my $rules = shift @ARGV || '/usr/share/spamassassin';
my $site = shift @ARGV || '/etc/spamassassin';
my $sa = Mail::SpamAssassin->new({
    rules_filename      => $rules,
    site_rules_filename => $site,
    userprefs_filename  => '/dev/null',
    local_tests_only    => 1,
    dont_copy_prefs     => 1,
});
$sa->init(1);
my $conf = $sa->{conf};
my %types = %Mail::SpamAssassin::Conf::TYPE_AS_STRING;
my @sets = map { $conf->{scoreset}->[$_] } 0 .. 3;
foreach my $name (sort keys %{$conf->{test_types}}) {
    my $t = $conf->{test_types}->{$name};
    my $ts = defined $types{$t} ? $types{$t} : "type$t";
    my @s = map { defined $sets[$_]->{$name} ? $sets[$_]->{$name} : 'undef' } 0 .. 3;
    print "$name\t$ts\t@s\n";
}
