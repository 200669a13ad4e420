require "fileinto";
if address :localpart :is "sender" "owner-dev" { fileinto "A"; }
