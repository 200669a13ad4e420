redirect "g: a@example.com;";
