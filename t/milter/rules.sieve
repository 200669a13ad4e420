# rules.sieve - a plain Sieve script under mvmtr: it runs at end of message
require ["reject", "vnd.mvmf.smtp", "envelope"];
if header :contains "subject" "bad" {
	reject :code "554" "bad subject";
} elsif address :is "from" "junk@example.com" {
	discard;
} elsif envelope :is "to" "hold@example.org" {
	tempfail "held";
}
