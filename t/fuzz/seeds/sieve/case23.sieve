redirect "bob";
