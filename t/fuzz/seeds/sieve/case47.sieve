require "fileinto";
if address :domain :contains "to" "example" { fileinto "A"; }
