-- POST /login with a wrong password for a new email each time, from one
-- visitor (its cookies and CSRF token are valid), counting answers by status.
-- Each request claims another address in X-Forwarded-For: an instance that
-- trusts the load generator as a proxy (the direct shape) sees a flood from
-- thousands of addresses, each one a full password check; nginx overwrites
-- the header, so behind it the flood is what it is, one address.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "statuses.lua")
function setup(thread)
  track(thread)
end
function init(args)
  local line = io.open(args[1]):read("*l")
  local cookie, token = line:match("^([^\t]*)\t([^\t]+)")
  headers = {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = args[2],
  }
  csrf = token
  counter = 0
end
function request()
  counter = counter + 1
  local body = "email=flood" .. counter .. "%40example.com&password=wrong-password-123&csrf_token=" .. csrf
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format("POST", "/login", headers, body)
end
