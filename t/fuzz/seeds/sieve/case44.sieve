require "fileinto";
if address :domain :is ["from", "cc"] "example.com" { fileinto "A"; }
