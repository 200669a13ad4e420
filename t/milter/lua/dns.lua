-- dns.lua - against dns.mfl: SPF results, Received-SPF, DNSBL answers,
-- codes and masks, a server down and one that never answers
-- send(helo, ip, from[, rcpt]): a message; the connection and the reply
function send(helo, ip, from, rcpt)
	local c = mt.connect(sock, 100, 0.05)
	assert(c, "cannot connect to " .. sock)
	assert(mt.macro(c, SMFIC_CONNECT, "j", "mx.example") == nil, "macro")
	assert(mt.conninfo(c, "client.example", ip) == nil, "conninfo")
	assert(mt.helo(c, helo) == nil, "helo")
	local r = message(c, from, { rcpt or "<a@example.org>" }, { { "Subject", "dns" } })
	return c, r
end
-- rcpt(helo, ip, from, rcpt): the reply to RCPT TO
function rcpt(helo, ip, from, to)
	local c = mt.connect(sock, 100, 0.05)
	assert(mt.conninfo(c, "client.example", ip) == nil, "conninfo")
	assert(mt.helo(c, helo) == nil, "helo")
	assert(mt.mailfrom(c, from) == nil, "mailfrom")
	assert(mt.rcptto(c, to) == nil, "rcptto")
	local r = mt.getreply(c)
	mt.disconnect(c)
	return r
end
function spf(helo, ip, from, want, what)
	local c, r = send(helo, ip, from)
	check(r == SMFIR_CONTINUE, what .. ": the message goes on")
	header_is(c, "X-SPF", want, what .. ": " .. want)
	mt.disconnect(c)
end
spf("mail.pass.test", "192.0.2.10", "<a@pass.test>", "pass", "ip4 match")
spf("mail.pass.test", "198.51.100.7", "<a@pass.test>", "fail", "ip4 mismatch, -all")
spf("mail.pass.test", "198.51.100.7", "<a@softfail.test>", "softfail", "~all")
spf("mail.pass.test", "198.51.100.7", "<a@neutral.test>", "neutral", "?all")
spf("mail.pass.test", "192.0.2.10", "<a@none.test>", "none", "a domain without SPF")
spf("mail.pass.test", "192.0.2.10", "<a@nxdomain.test>", "none", "a domain that does not exist")
spf("mail.pass.test", "192.0.2.10", "<a@perm.test>", "permerror", "a broken record")
spf("mail.pass.test", "192.0.2.10", "<a@two.test>", "permerror", "two records")
spf("mail.pass.test", "192.0.2.10", "<a@mx.test>", "pass", "mx: through an MX name")
spf("mail.pass.test", "192.0.2.10", "<a@incl.test>", "pass", "include:")
spf("mail.pass.test", "2001:db8::25", "<a@pass.test>", "pass", "ip6 match")
spf("mail.pass.test", "192.0.2.10", "<a@temp.test>", "temperror", "an include that fails")
spf("pass.test", "192.0.2.10", "<>", "pass", "<>: postmaster@HELO (RFC 7208 2.4)")
spf("fail.test", "192.0.2.10", "<>", "fail", "<>: HELO's record decides")
spf("down.client", "192.0.2.10", "<a@pass.test>", "temperror", "the server is down")
spf("sink.client", "192.0.2.10", "<a@pass.test>", "temperror", "the server does not answer")

local c, r = send("pass.test", "198.51.100.7", "<a@fail.test>")
header_is(c, "X-SPF-HELO", "fail", "$spf_helo: HELO pass.test from outside its network")
header_is(c, "X-SPF-Exp", "198.51.100.7 may not send mail for fail.test",
	"$spf_explanation: the domain's exp=, expanded")
local h = mt.getheader(c, "Received-SPF", 0) or ""
check(h:find("^fail %(") ~= nil, "Received-SPF: the result first")
check(h:find("client%-ip=198%.51%.100%.7;") ~= nil, "Received-SPF: client-ip")
check(h:find('envelope%-from="a@fail%.test";') ~= nil, "Received-SPF: envelope-from, quoted")
check(h:find("helo=pass%.test;") ~= nil, "Received-SPF: helo")
check(h:find("receiver=mx%.example;") ~= nil, "Received-SPF: receiver from the j macro")
check(h:find("identity=mailfrom;") ~= nil, "Received-SPF: identity")
if not h:find("^fail %(") then mt.echo("# got Received-SPF: " .. h) end
mt.disconnect(c)
-- mvmtr keeps SPF results across connections, but each for its own
-- client, HELO name and sender: the same again, then others
for _, t in ipairs({ { "pass.test", "<a@fail.test>", "fail", "a@fail.test", "pass.test" },
		     { "other.pass.test", "<b@fail.test>", "fail", "b@fail.test", "other.pass.test" },
		     { "other.pass.test", "<b@pass.test>", "fail", "b@pass.test", "other.pass.test" } }) do
	c, r = send(t[1], "198.51.100.7", t[2])
	h = mt.getheader(c, "Received-SPF", 0) or ""
	check(h:find("^" .. t[3] .. " %(") ~= nil
		and h:find('envelope%-from="' .. t[4]:gsub("%.", "%%.") .. '";') ~= nil
		and h:find("helo=" .. t[5]:gsub("%.", "%%.") .. ";") ~= nil,
		"Received-SPF again from 198.51.100.7, " .. t[2] .. " HELO " .. t[1] .. ": its own")
	if not h:find('envelope%-from="' .. t[4]:gsub("%.", "%%.")) then mt.echo("# got Received-SPF: " .. h) end
	mt.disconnect(c)
end
c, r = send("mail.pass.test", "198.51.100.7", "<a@pass.test>")
header_is(c, "X-SPF-Exp", "198.51.100.7 is not one of pass.test's designated mail servers",
	"$spf_explanation without exp=: mvmtr's")
mt.disconnect(c)

check(rcpt("mail.pass.test", "198.51.100.7", "<a@fail.test>", "<spf@example.org>")
	== SMFIR_REPLYCODE, "a hook rejects on fail with the explanation")

-- DNSBL
c, r = send("mail.pass.test", "192.0.2.10", "<a@pass.test>")
header_is(c, "X-DNSBL", "listed", "192.0.2.10 is listed (127.0.0.2)")
header_is(c, "X-DNSBL-A", "127.0.0.2", "$dnsbl_a: its A answer")
header_is(c, "X-DNSBL-TXT", "Listed: see https://bl.test/192.0.2.10", "$dnsbl_txt: its TXT answer")
header_is(c, "X-DNSBL-Codes", "clean", ":codes 127.0.0.4: 127.0.0.2 does not count")
header_is(c, "X-DNSBL-Mask", "listed", ":mask 2: 127.0.0.10 has bit 2")
header_is(c, "X-DNSBL-Mask4", "clean", ":mask 4: 127.0.0.10 has not bit 4")
header_is(c, "X-DNSBL-Addr", "clean", ":address: another address, not listed")
mt.disconnect(c)
c, r = send("mail.pass.test", "192.0.2.11", "<a@pass.test>")
header_is(c, "X-DNSBL-Codes", "listed", ":codes 127.0.0.4: listed with that code")
mt.disconnect(c)
c, r = send("mail.pass.test", "192.0.2.12", "<a@pass.test>")
header_is(c, "X-DNSBL", "clean", "127.255.255.254: the list refused, not a listing")
mt.disconnect(c)
c, r = send("mail.pass.test", "192.0.2.13", "<a@pass.test>")
header_is(c, "X-DNSBL", "clean", "an address the list does not have")
header_is(c, "X-DNSBL-A", "", "$dnsbl_a: no answers")
mt.disconnect(c)
c, r = send("mail.pass.test", "2001:db8::99", "<a@pass.test>")
header_is(c, "X-DNSBL", "listed", "an IPv6 client, by nibbles (RFC 5782 2.4)")
mt.disconnect(c)
check(rcpt("mail.pass.test", "192.0.2.10", "<a@pass.test>", "<bl@example.org>")
	== SMFIR_REPLYCODE, "a hook rejects a listed client with the list's text")
check(rcpt("mail.pass.test", "192.0.2.13", "<a@pass.test>", "<bl@example.org>")
	== SMFIR_CONTINUE, "and lets a client on neither list through")
-- one connection, two messages: the answers are kept for the connection
c = mt.connect(sock, 100, 0.05)
assert(mt.conninfo(c, "client.example", "192.0.2.20") == nil, "conninfo")
assert(mt.helo(c, "mail.pass.test") == nil, "helo")
message(c, "<a@pass.test>", { "<a@example.org>" }, { { "Subject", "one" } })
header_is(c, "X-DNSBL", "listed", "first message: listed")
message(c, "<b@pass.test>", { "<a@example.org>" }, { { "Subject", "two" } })
header_is(c, "X-DNSBL", "listed", "second message: listed, from the cache")
mt.disconnect(c)
check(rcpt("sink.client", "192.0.2.10", "<a@pass.test>", "<sink@example.org>")
	== SMFIR_CONTINUE, "zones that never answer list nothing")
