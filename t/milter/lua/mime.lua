-- mime.lua - against mime.sieve: a :mime :anychild test reads the parts
local c = open("client.example", "192.0.2.1")
check(not mt.test_option(c, SMFIP_NOBODY), ":mime :anychild: the body is asked for")
local mp = { { "Subject", "parts" }, { "MIME-Version", "1.0" },
	{ "Content-Type", 'multipart/mixed; boundary="b1"' } }
local body = "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n" ..
	"--b1\r\nContent-Type: application/x-msdownload; name=\"a.exe\"\r\n\r\nMZ\r\n--b1--\r\n"
local r = message(c, "<s@example.org>", { "<a@example.org>" }, mp, body)
check(r == SMFIR_REPLYCODE, "a part of the refused type, below the top: rejected")
body = "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n"
r = message(c, "<s@example.org>", { "<a@example.org>" }, mp, body)
check(r == SMFIR_CONTINUE, "no such part: the message goes on")
mt.disconnect(c)
