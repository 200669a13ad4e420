require ["fileinto", "envelope"];
if envelope :localpart :is "from" "sender" { fileinto "A"; }
