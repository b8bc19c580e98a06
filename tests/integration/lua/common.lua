-- Shared by the message scripts: one transaction, headers and a body.
function send_message(conn, subject, body, extra)
	local err = mt.negotiate(conn, nil, nil, nil)
	if err ~= nil then error("negotiate: " .. err) end
	local ip = os.getenv("CLIENT_IP") or "192.0.2.10"
	if mt.conninfo(conn, "client.example", ip) ~= nil then
		error("conninfo") end
	if mt.helo(conn, "client.example") ~= nil then error("helo") end
	if mt.macro(conn, SMFIC_MAIL, "i", "QTEST1") ~= nil then error("macro") end
	if mt.mailfrom(conn, "<sender@example.org>") ~= nil then error("mail") end
	if mt.rcptto(conn, "<rcpt@example.net>") ~= nil then error("rcpt") end
	if mt.header(conn, "From", "Sender <sender@example.org>") ~= nil then
		error("header") end
	mt.header(conn, "To", "rcpt@example.net")
	mt.header(conn, "Subject", subject)
	mt.header(conn, "Date", "Mon, 23 Nov 2026 10:00:00 +0000")
	mt.header(conn, "Message-ID", "<m1@example.org>")
	if extra ~= nil then mt.header(conn, extra[1], extra[2]) end
	if mt.eoh(conn) ~= nil then error("eoh") end
	if mt.bodystring(conn, body) ~= nil then error("body") end
	if mt.eom(conn) ~= nil then error("eom") end
end
