-- A message from an address SPF authorises: Authentication-Results on
-- top with spf=pass and dmarc=pass.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect") end
send_message(conn, "hello", "Authenticated mail.\r\n",
             {"Authentication-Results", "mx.test; spf=pass (forged)"})
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("not accepted") end
if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	error("no Authentication-Results inserted") end
local ar = mt.getheader(conn, "Authentication-Results", 0)
if ar == nil then error("no Authentication-Results value") end
if not string.find(ar, "^ mx.test;") then error("authserv-id: " .. ar) end
if not string.find(ar, "spf=pass") then error("no spf=pass: " .. ar) end
if not string.find(ar, "smtp.mailfrom=sender@example.org", 1, true) then
	error("no smtp.mailfrom: " .. ar) end
if not string.find(ar, "dmarc=pass") then error("no dmarc=pass: " .. ar) end
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	error("forged Authentication-Results of our id not removed") end
mt.disconnect(conn)
