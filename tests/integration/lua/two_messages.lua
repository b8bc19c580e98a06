-- Two messages on one connection (RSET between them): each gets its own
-- verdict.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect") end
send_message(conn, "first",
  "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("first: no reject") end
if mt.abort(conn) ~= nil then error("abort") end
if mt.mailfrom(conn, "<second@example.org>") ~= nil then error("mail 2") end
mt.rcptto(conn, "<rcpt@example.net>")
mt.header(conn, "From", "second@example.org")
mt.header(conn, "Subject", "second")
mt.eoh(conn)
mt.bodystring(conn, "hello again\r\n")
mt.eom(conn)
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("second: not accepted") end
if not mt.eom_check(conn, MT_HDRADD, "X-Spam-Status") then
	error("second: no X-Spam-Status") end
mt.disconnect(conn)
