require "fileinto";
if address :contains "from" "Alice" { fileinto "A"; }
