-- prelude.lua - helpers for the scenarios (miltertest.sh puts this first)
mt.set_timeout(10)
function check(cond, name)
	if cond then mt.echo("ok - " .. name) else mt.echo("not ok - " .. name) end
end
function open(host, ip)
	local c = mt.connect(sock, 100, 0.05)
	assert(c, "cannot connect to " .. sock)
	assert(mt.conninfo(c, host, ip) == nil, "conninfo")
	return c
end
-- a message up to its end: headers is a list of {name, value}
function message(c, from, rcpts, headers, body)
	assert(mt.mailfrom(c, from) == nil, "mailfrom")
	for _, r in ipairs(rcpts) do assert(mt.rcptto(c, r) == nil, "rcptto") end
	-- a step the filter switched off (SMFIP_NO*) must not be sent
	if not mt.test_option(c, SMFIP_NODATA) then assert(mt.data(c) == nil, "data") end
	if not mt.test_option(c, SMFIP_NOHDRS) then
		for _, h in ipairs(headers) do assert(mt.header(c, h[1], h[2]) == nil, "header") end
	end
	if not mt.test_option(c, SMFIP_NOEOH) then assert(mt.eoh(c) == nil, "eoh") end
	if not mt.test_option(c, SMFIP_NOBODY) then
		assert(mt.bodystring(c, body or "hello\r\n") == nil, "body")
	end
	assert(mt.eom(c) == nil, "eom")
	return mt.getreply(c)
end
-- header_is: header NAME added at eom with VALUE; says what it got if not
function header_is(c, name, value, what)
	local ok = mt.eom_check(c, MT_HDRADD, name, value)
	check(ok, what)
	if not ok then mt.echo("# got " .. name .. ": " .. tostring(mt.getheader(c, name, 0))) end
end
