-- reload.lua - SIGHUP while a connection is open (reload.sh sets pid
-- and newscript): the open connection keeps its program, new ones get
-- the new one
local a = open("client.example", "192.0.2.1")
os.execute("cp " .. newscript .. " " .. script .. " && kill -HUP " .. pid .. " && sleep 0.5")
local b = mt.connect(sock, 100, 0.05)
mt.conninfo(b, "client.example", "192.0.2.1")
check(mt.getreply(b) == SMFIR_REPLYCODE, "a new connection runs the new program")
mt.disconnect(b)
mt.mailfrom(a, "<s@example.org>")
mt.rcptto(a, "<no@example.org>")
check(mt.getreply(a) == SMFIR_REPLYCODE, "the open connection still runs the old one")
mt.rcptto(a, "<yes@example.org>")
check(mt.getreply(a) == SMFIR_CONTINUE, "to its end")
mt.disconnect(a)
