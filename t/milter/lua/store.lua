-- store.lua - against store.mfl: greylisting, auto-allow, rates, lists
function try(ip, rcpt)
	local c = open("client.example", ip)
	mt.mailfrom(c, "<s@example.org>")
	mt.rcptto(c, rcpt)
	local r = mt.getreply(c)
	mt.disconnect(c)
	return r
end
check(try("192.0.2.10", "<a@example.org>") == SMFIR_REPLYCODE, "a new triplet is greylisted")
check(try("192.0.2.10", "<a@example.org>") == SMFIR_REPLYCODE, "a retry before the delay too")
mt.sleep(2.2)
check(try("192.0.2.10", "<a@example.org>") == SMFIR_CONTINUE, "a retry after the delay passes")
check(try("192.0.2.11", "<a@example.org>") == SMFIR_CONTINUE, "the same network passes too (/24)")
check(try("192.0.2.10", "<b@example.org>") == SMFIR_REPLYCODE, "a new recipient is greylisted")
mt.sleep(2.2)
check(try("192.0.2.10", "<b@example.org>") == SMFIR_CONTINUE, "its retry passes: the second pass")
check(try("192.0.2.10", "<c@example.org>") == SMFIR_CONTINUE, "after 2 passes the network is allow-listed")
check(try("198.51.100.1", "<c@example.org>") == SMFIR_REPLYCODE, "another network is not")
os.execute(mvmcas .. " block 203.0.113.0/24 -r 'listed by hand' >/dev/null")
check(try("203.0.113.9", "<a@example.org>") == SMFIR_REJECT, "a block from mvmcas applies at once")
os.execute(mvmcas .. " allow 198.51.100.0/24 >/dev/null")
check(try("198.51.100.1", "<c@example.org>") == SMFIR_ACCEPT, "an allow from mvmcas too")
local c = open("client.example", "100.64.0.99")
mt.mailfrom(c, "<s@example.org>")
local rejected = 0
for i = 1, 3 do
	mt.rcptto(c, "<nobody@example.org>")
	if mt.getreply(c) == SMFIR_REPLYCODE then rejected = rejected + 1 end
end
check(rejected == 3, "three rejects in one message")
mt.rcptto(c, "<a@example.org>")
check(mt.getreply(c) == SMFIR_REJECT, "then the client is blocked automatically")
mt.disconnect(c)
c = open("client.example", "100.64.1.98")
mt.mailfrom(c, "<s@example.org>")
local within = 0
for i = 1, 3 do
	mt.rcptto(c, "<rate@example.org>")
	if mt.getreply(c) == SMFIR_REPLYCODE then within = within + 1 end
end
check(within == 3, "three within the rate (greylisted)")
mt.rcptto(c, "<rate@example.org>")
check(mt.getreply(c) == SMFIR_TEMPFAIL, "the fourth in a minute is over the rate")
mt.disconnect(c)
