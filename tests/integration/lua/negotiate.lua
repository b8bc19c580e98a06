-- Option negotiation with miltertest's defaults (version 6, all actions
-- and steps): vigild asks for header edits and quarantine.
local conn = mt.connect(os.getenv("VIGIL_SOCKET"), 20, 0.1)
if conn == nil then error("cannot connect to vigild") end
local err = mt.negotiate(conn, nil, nil, nil)
if err ~= nil then error("negotiate: " .. err) end
if not mt.test_action(conn, SMFIF_ADDHDRS) then error("no SMFIF_ADDHDRS") end
if not mt.test_action(conn, SMFIF_CHGHDRS) then error("no SMFIF_CHGHDRS") end
if not mt.test_action(conn, SMFIF_QUARANTINE) then error("no SMFIF_QUARANTINE") end
if mt.test_action(conn, SMFIF_CHGBODY) then error("asked for SMFIF_CHGBODY") end
mt.disconnect(conn)
