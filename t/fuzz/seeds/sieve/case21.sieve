redirect "a@example.com";
redirect "b@example.com";
