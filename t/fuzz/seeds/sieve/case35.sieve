redirect "bob@example.com (Bob)";
