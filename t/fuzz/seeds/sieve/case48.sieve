require "fileinto";
if address :contains "subject" "report" { fileinto "A"; }
