-- POST /swipes as logged-in members. Request k of thread t swipes member
-- (k mod S) onto target number (k div S) of that thread's own slice of the
-- seeded ids, so no pair is ever sent twice.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "statuses.lua")
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  track(thread)
end
function init(args)
  sessions = {}
  for line in io.lines(args[1]) do
    local cookie, token = line:match("^([^\t]+)\t([^\t]+)")
    sessions[#sessions + 1] = { cookie = cookie, token = token }
  end
  first, last = tonumber(args[2]), tonumber(args[3])
  threads = tonumber(args[4])
  k = 0
end
function request()
  local s = #sessions
  local member = sessions[(k % s) + 1]
  local span = math.floor((last - first + 1) / threads)
  local target = first + (id - 1) * span + (math.floor(k / s) % span)
  k = k + 1
  local body = "target=" .. target .. "&kind=dislike&csrf_token=" .. member.token
  return wrk.format("POST", "/swipes", {
    ["Cookie"] = member.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
