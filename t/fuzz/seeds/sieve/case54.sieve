require "fileinto";
if address :localpart :is "to" "user+tag" { fileinto "A"; }
