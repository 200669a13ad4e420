-- toplevel.lua - against toplevel.mfl: its top level fails at connect
local c = mt.connect(sock, 100, 0.05)
assert(c, "cannot connect to " .. sock)
assert(mt.macro(c, SMFIC_CONNECT, "j", "mx") == nil, "macro")
assert(mt.conninfo(c, "client.example", "192.0.2.7") == nil, "conninfo")
check(mt.test_option(c, SMFIP_NR_CONN), "CONNECT needs no reply without a connect hook")
check(mt.mailfrom(c, "<s@example.org>") == nil, "MAIL is not waited for either")
check(mt.rcptto(c, "<r@example.org>") == nil, "RCPT is")
check(mt.getreply(c) == SMFIR_REPLYCODE, "and gets the default action, not the hook's accept")
check(mt.rcptto(c, "<r2@example.org>") == nil and mt.getreply(c) == SMFIR_REPLYCODE,
      "so does the next RCPT")
mt.disconnect(c)
