require "fileinto";
if address :is "cc" "carol@example.com" { fileinto "A"; }
