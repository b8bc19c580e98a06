-- SPF fail for a sender domain listed in spf.reject_fail_domains: the
-- MAIL command itself gets the 550; an authorised client continues.
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect") end
if mt.negotiate(conn, nil, nil, nil) ~= nil then error("negotiate") end
mt.conninfo(conn, "client.example", "192.0.2.66")
mt.helo(conn, "client.example")
if mt.mailfrom(conn, "<sender@example.org>") ~= nil then error("mail") end
if mt.getreply(conn) ~= SMFIR_REPLYCODE then
	error("MAIL from a forbidden address was not rejected") end
mt.disconnect(conn)
conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if mt.negotiate(conn, nil, nil, nil) ~= nil then error("negotiate 2") end
mt.conninfo(conn, "client.example", "192.0.2.10")
mt.helo(conn, "client.example")
if mt.mailfrom(conn, "<sender@example.org>") ~= nil then error("mail 2") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then
	error("MAIL from an authorised address was not continued") end
if mt.rcptto(conn, "<rcpt@example.net>") ~= nil then error("rcpt") end
mt.disconnect(conn)
