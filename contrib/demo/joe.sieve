# joe.sieve - the demo user joe's ~/.dovecot.sieve: plain Sieve, as a
# Dovecot user writes it; mvmda runs it because joe has no .mvmda.mfl.
# "Lists/dev" is the folder .Lists.dev of joe's Maildir++ (mvmda-sysrc(5)).
require ["fileinto", "relational", "comparator-i;ascii-numeric"];

if header :contains "List-Id" "<dev.lists.example.org>" {
    fileinto "Lists/dev";
} elsif header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "10" {
    fileinto "Junk";
} elsif header :contains "Subject" "Invoice" {
    fileinto "Work/Invoices";
}
