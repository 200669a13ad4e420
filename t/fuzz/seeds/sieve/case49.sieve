require "fileinto";
if address :contains "reply-to" "" { fileinto "A"; }
