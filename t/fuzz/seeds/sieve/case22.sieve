redirect "a@example.com";
keep;
