redirect "\"john doe\"@example.com";
