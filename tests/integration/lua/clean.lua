-- A clean message: delivered with SpamAssassin-style headers.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect") end
send_message(conn, "lunch", "See you at noon.\r\n",
             {"X-Spam-Status", "Yes, forged by the sender"})
if mt.getreply(conn) ~= SMFIR_CONTINUE then
	error("expected continue at end of message") end
if not mt.eom_check(conn, MT_HDRADD, "X-Spam-Status") then
	error("no X-Spam-Status added") end
local status = mt.getheader(conn, "X-Spam-Status", 0)
-- miltertest negotiates SMFIP_HDR_LEADSPC: values carry the space an
-- MTA writes after the colon.
if status == nil or not string.find(status, "^ No, score=") then
	error("X-Spam-Status is " .. tostring(status)) end
-- the score as compared, 3 decimals at most ("0.0", "0.02")
local score = mt.getheader(conn, "X-Spam-Score", 0)
if score == nil or not string.find(score, "^ %-?%d+%.%d%d?%d?$") or
   tonumber(score) >= 5 then
	error("X-Spam-Score is " .. tostring(score)) end
if mt.eom_check(conn, MT_HDRADD, "X-Spam-Flag") then
	error("clean mail flagged") end
if not mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Status") then
	error("forged X-Spam-Status not removed") end
mt.disconnect(conn)
