require "fileinto";
if address :contains "to" "" { fileinto "A"; }
