# mime.sieve - a Sieve script whose only look into the body is a
# :mime :anychild test (RFC 5703): mvmtr must ask the MTA for the body
require ["mime", "reject"];
if header :mime :anychild :contenttype "Content-Type" "application/x-msdownload" {
	reject "executable attachments are refused";
}
