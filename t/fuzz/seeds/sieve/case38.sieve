require "fileinto";
if address :localpart :is "from" "alice" { fileinto "A"; }
