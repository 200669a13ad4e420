if header :domain "from" "x" { keep; }
