-- changes.lua - message changes at end of message
local c = open("client.example", "192.0.2.1")
local r = message(c, "<s@example.org>", {"<old@example.org>"},
	{{"Subject", "changes"}, {"X-Old", "gone"}})
check(r == SMFIR_CONTINUE, "eom: continue")
check(mt.eom_check(c, MT_HDRINSERT, "X-First", "first", 0), "header inserted at index 0")
check(mt.eom_check(c, MT_HDRCHANGE, "Subject", "changed"), "header changed")
check(mt.eom_check(c, MT_HDRDELETE, "X-Old"), "header deleted")
check(mt.eom_check(c, MT_RCPTADD, "new@example.org"), "recipient added")
check(mt.eom_check(c, MT_RCPTDELETE, "old@example.org"), "recipient deleted")
check(mt.eom_check(c, MT_BODYCHANGE, "the new body\r\n"), "body replaced")
check(mt.eom_check(c, MT_HDRADD, "X-Messages", "1"), "header added")
r = message(c, "<s@example.org>", {"<one@example.org>"}, {{"Subject", "quarantine"}})
check(mt.eom_check(c, MT_QUARANTINE, "looks odd"), "quarantined with its reason")
check(not mt.eom_check(c, MT_HDRINSERT, "X-First"), "changes of the last message are not made again")
check(mt.eom_check(c, MT_HDRADD, "X-Messages", "2"), "second message of the connection")
check(mt.eom_check(c, MT_HDRADD, "X-Prev-Subject", "changes"),
      "a global holding the last message's Subject outlives that message")
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice", "i", "4QX1")
r = message(c, "<s@example.org>", {"<one@example.org>"}, {{"Subject", "macro"}})
check(mt.eom_check(c, MT_HDRADD, "X-Auth", "alice/4QX1"), "$macro and $queue_id read the MTA's macros")
r = message(c, "<s@example.org>", {"<one@example.org>"}, {{"Subject", "big"}}, string.rep("0123456789abcdef\r\n", 200))
check(mt.eom_check(c, MT_HDRADD, "X-Big", "yes"), "size sees the body")
r = message(c, "<s@example.org>", {"<one@example.org>"}, {{"Subject", "error"}})
check(r == SMFIR_REPLYCODE, "a runtime error in eom answers tempfail")
check(not mt.eom_check(c, MT_HDRADD, "X-Log"), "and makes none of the message's changes")
r = message(c, "<s@example.org>", {"<one@example.org>"}, {{"Subject", "after"}})
check(r == SMFIR_CONTINUE and mt.eom_check(c, MT_HDRADD, "X-Messages", "6"),
      "the next message runs normally, globals kept")
-- an aborted message (RSET) between two: the global stays the last
-- completed message's, after both their memories were let go
assert(mt.mailfrom(c, "<s@example.org>") == nil, "mailfrom")
assert(mt.rcptto(c, "<one@example.org>") == nil, "rcptto")
assert(mt.header(c, "Subject", "aborted") == nil, "header")
assert(mt.eoh(c) == nil, "eoh")
assert(mt.abort(c) == nil, "abort")
r = message(c, "<s@example.org>", {"<one@example.org>"}, {{"Subject", "fourth"}})
check(mt.eom_check(c, MT_HDRADD, "X-Prev-Subject", "after"),
      "the Subject kept across an abort and another message: "
      .. tostring(mt.getheader(c, "X-Prev-Subject", 0)))
mt.disconnect(c)
