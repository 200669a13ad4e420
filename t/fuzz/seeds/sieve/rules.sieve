# rules.sieve - included by include.mfl: read in Sieve mode by its name
require "fileinto";
if header :contains "subject" "report" {
    fileinto "FromSieve";
}
