require ["fileinto", "envelope"];
if header :contains "subject" ["sale", "offer"] {
    fileinto "Ads";
} elsif allof (address :domain :is "from" "example.org", not size :over 100K) {
    redirect "archive@example.net";
    stop;
}
