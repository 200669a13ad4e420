# rules.sieve - a plain Sieve script under mvmtr: it runs at end of message
require ["reject", "ereject", "vnd.mvmf.smtp", "envelope", "environment",
	"body", "variables", "editheader"];
if header :contains "subject" "bad" {
	reject :code "554" "bad subject";
} elsif address :is "from" "junk@example.com" {
	discard;
} elsif envelope :is "to" "hold@example.org" {
	tempfail "held";
} elsif environment :matches "remote-ip" "192.0.2.66" {
	ereject "not from ${0}";
} elsif body :contains "FORBIDDEN-WORD" {
	reject "body says no";
} elsif envelope :is "auth" "mallory" {
	reject "not with that login";
} elsif header :is "subject" "edit me" {
	addheader "X-Edited" "yes";
	addheader :last "X-Trailer" "last one";
	deleteheader "X-Remove";
}
