redirect "a@x.org";
redirect "b@x.org";
redirect "c@x.org";
redirect "d@x.org";
