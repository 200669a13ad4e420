-- damage.lua - against damage.mfl on a store cut short on disk while
-- mvmtr runs (miltertest.sh): the lookup fails as a store failure, the
-- store fails open ($mvmtr_store_failure's default), and mvmtr goes on
-- serving
function try(ip, rcpt)
	local c = open("client.example", ip)
	mt.mailfrom(c, "<s@example.org>")
	mt.rcptto(c, rcpt)
	local r = mt.getreply(c)
	mt.disconnect(c)
	return r
end
check(try("192.0.2.10", "<a@example.org>") == SMFIR_ACCEPT, "the store works: the lookup, then accept")
os.execute("truncate -s 16384 " .. store .. "/data.mdb")
check(try("192.0.2.20", "<d@example.org>") == SMFIR_ACCEPT,
	"cut short on disk: the lookup fails, the store fails open, the script accepts")
check(try("192.0.2.21", "<e@example.org>") == SMFIR_ACCEPT, "and mvmtr still serves the next")
