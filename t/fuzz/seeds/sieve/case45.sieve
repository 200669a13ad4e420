require "fileinto";
if address :domain :is "from" ["x.test", "example.org"] { fileinto "A"; }
