require "fileinto";
if address :domain :is :comparator "i;octet" "cc" "example.com" { fileinto "A"; }
