-- damage2.lua - mvmtr started on a store already cut short, with
-- $mvmtr_store_failure "tempfail": it serves, and every lookup is a
-- store failure answered 451
function try(ip, rcpt)
	local c = open("client.example", ip)
	mt.mailfrom(c, "<s@example.org>")
	mt.rcptto(c, rcpt)
	local r = mt.getreply(c)
	mt.disconnect(c)
	return r
end
check(try("192.0.2.30", "<f@example.org>") == SMFIR_REPLYCODE, "a lookup: tempfail")
check(try("192.0.2.31", "<g@example.org>") == SMFIR_REPLYCODE, "and again")
