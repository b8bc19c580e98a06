-- The same sender from an address SPF refuses, DMARC p=reject, and a
-- configuration that honours it: rejected at end of data.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect") end
send_message(conn, "hello", "Forged mail.\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("not rejected") end
if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
                    "Rejected by the DMARC policy of example.org") then
	error("not the DMARC reply") end
mt.disconnect(conn)
