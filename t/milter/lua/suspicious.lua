-- suspicious.lua - against suspicious.mfl: what $client_suspicious says
-- of the connect's host name, and $greylist_key of a plain client
function try(host, ip)
	local c = open(host, ip)
	mt.mailfrom(c, "<s@example.org>")
	mt.rcptto(c, "<a@example.org>")
	local r = mt.getreply(c)
	mt.disconnect(c)
	return r
end
check(try("[192.0.2.10]", "192.0.2.10") == SMFIR_REJECT, "[address]: no reverse DNS")
check(try("unknown", "192.0.2.10") == SMFIR_REJECT, "unknown: no reverse DNS")
check(try("dyn-77.example.net", "192.0.2.10") == SMFIR_DISCARD, "dyn: generic")
check(try("10-2-0-192.example.net", "192.0.2.10") == SMFIR_TEMPFAIL, "the address reversed in the name")
check(try("pool-7.example.net", "192.0.2.10") == SMFIR_DISCARD, "pool: generic")
check(try("mail.example.org", "192.0.2.10") == SMFIR_ACCEPT,
	"a mail server's name: not suspicious, and $greylist_key is its /24")
