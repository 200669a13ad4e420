require ["fileinto", "envelope"];
if envelope :is "from" "sender@example.org" { fileinto "A"; }
