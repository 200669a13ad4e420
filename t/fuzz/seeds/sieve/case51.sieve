if address :all :domain "from" "x" { keep; }
