-- The GTUBE string: rejected with the configured reply.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect") end
send_message(conn, "test",
  "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then
	error("expected a reply code") end
if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
                    os.getenv("REJECT_TEXT")) then
	error("expected 550 5.7.1 " .. os.getenv("REJECT_TEXT")) end
mt.disconnect(conn)
