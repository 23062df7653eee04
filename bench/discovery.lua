-- GET /discover as logged-in members, round robin over their sessions.
local sessions = {}
local i = 0
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
