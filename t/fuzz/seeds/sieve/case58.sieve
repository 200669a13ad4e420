require ["fileinto", "envelope"];
if envelope :is "to" "user@example.net" { fileinto "A"; }
