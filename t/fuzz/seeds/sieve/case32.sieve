require "fileinto";
fileinto "A";
discard;
