require "fileinto";
if address :all :is "from" "alice@example.org" { fileinto "A"; }
