require ["fileinto", "envelope"];
if envelope :domain :is "to" "example.net" { fileinto "A"; }
