require "fileinto";
if address :is "to" "user+tag@example.net" { fileinto "A"; }
