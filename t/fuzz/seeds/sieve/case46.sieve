require "fileinto";
if address :matches "from" "*@example.*" { fileinto "A"; }
