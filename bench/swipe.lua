-- POST /swipes as logged-in members, each on people who liked them (see
-- swipe.sh). The (member, target) pairs are dealt round robin over the
-- members, then over the threads, so no pair is sent twice and one member
-- (CASE=hot) still loads every thread.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "statuses.lua")
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  track(thread)
end
function init(args)
  local threads = tonumber(args[3])
  local members = {}
  for line in io.lines(args[1]) do
    local cookie, token = line:match("^([^\t]+)\t([^\t]+)")
    members[#members + 1] = { cookie = cookie, token = token, targets = {} }
  end
  local most = 0
  for line in io.lines(args[2]) do
    local n, target = line:match("^(%d+)\t(%d+)")
    local m = members[tonumber(n)]
    if m then
      m.targets[#m.targets + 1] = target
      if #m.targets > most then most = #m.targets end
    end
  end
  pairs_ = {}
  local j = 0
  for r = 1, most do
    for _, m in ipairs(members) do
      if m.targets[r] then
        if j % threads == id - 1 then pairs_[#pairs_ + 1] = { m, m.targets[r] } end
        j = j + 1
      end
    end
  end
  k = 0
end
function request()
  k = k + 1
  local pair = pairs_[((k - 1) % #pairs_) + 1]
  local member, target = pair[1], pair[2]
  local body = "target=" .. target .. "&kind=dislike&csrf_token=" .. member.token
  return wrk.format("POST", "/swipes", {
    ["Cookie"] = member.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
