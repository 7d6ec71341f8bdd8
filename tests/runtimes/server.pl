# Reads one byte of the request, answers ERROR, closes with the rest unread.
use strict;
use warnings;
use IO::Socket::INET;

$| = 1;
my $listener = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 5000,
                                     Listen => 5, ReuseAddr => 1) or die "listen: $!";
print "listening on port 5000\n";
my $conn = $listener->accept or die "accept: $!";
my $byte;
sysread($conn, $byte, 1);
syswrite($conn, "ERROR\n");
close($conn);
