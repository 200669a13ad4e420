# calls alike share one site and equal constants one slot (compile_share):
# the two header tests on Subject are one site, the :regex ones are not
# (their patterns differ), and "Subject" and "Lists" are one constant
require ["fileinto", "regex"];
if header :contains "Subject" "sale" {
    fileinto "Lists";
} elsif header :contains "Subject" "offer" {
    fileinto "Lists";
} elsif header :regex "Subject" "^a" {
    fileinto "A";
} elsif header :regex "Subject" "^b" {
    fileinto "B";
} elsif header :is "Subject" "sale" {
    fileinto "Lists";
}
