require "fileinto";
fileinto "Lists/dev/archive";
