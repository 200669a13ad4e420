require "fileinto";
if address :localpart :is "from" "root" { fileinto "A"; }
