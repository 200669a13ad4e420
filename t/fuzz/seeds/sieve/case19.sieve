redirect "Bob <bob@example.com>";
