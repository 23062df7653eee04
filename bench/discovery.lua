-- GET /discover as logged-in members, round robin over their sessions.
-- PAUSE_MS=n: each connection waits n ms after an answer before its next
-- request (a fixed offered load instead of as fast as the server answers).
local sessions = {}
local i = 0
local pause = tonumber(os.getenv("PAUSE_MS") or "0") or 0
function init(args)
  for line in io.lines(args[1]) do
    local cookie = line:match("^([^\t]+)")
    sessions[#sessions + 1] = cookie
  end
end
function request()
  i = i + 1
  return wrk.format("GET", "/discover", { ["Cookie"] = sessions[(i % #sessions) + 1] })
end
if pause > 0 then
  function delay()
    return pause
  end
end
