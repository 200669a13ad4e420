discard "A";
