keep "A";
