require "fileinto";
redirect "a@x.org";
fileinto "B";
keep;
