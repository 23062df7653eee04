-- Answers by status, counted in each wrk thread and printed as totals when
-- the run ends, so a refusal is never taken for speed. A script loads it with
--   dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "statuses.lua")
-- and calls track(thread) from its setup.
statuses = {}
local tracked = {}
function track(thread)
  table.insert(tracked, thread)
end
function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(tracked) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("  status %d: %d\n", status, n))
  end
end
