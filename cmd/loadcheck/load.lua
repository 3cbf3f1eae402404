-- wrk script of cmd/loadcheck. Run with as many threads as connections, so
-- that each thread has one connection and its request() and response()
-- calls alternate: every answer is then attributed to the token class of
-- the request it answers.
--
--   wrk -t N -c N -s load.lua URL -- DIR MIX
--
-- DIR holds one file per class (<class>.tok, one token per line), re-read
-- every 200 ms so that the driver can switch tokens to a new key; MIX is a
-- comma-separated list of classes, one entry per request of a cycle. done()
-- prints one line "LOADCHECK_RESULT {json}": status counts per 100 ms bucket
-- and class, and wrk's latency percentiles.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } loadcheck_timespec;
int clock_gettime(int clk, loadcheck_timespec *ts);
]]
local ts = ffi.new("loadcheck_timespec")
local function now_ms()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: the driver's timeline is wall time
  return tonumber(ts.tv_sec) * 1000 + math.floor(tonumber(ts.tv_nsec) / 1000000)
end

local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

local dir, mix, names
local tokens = {}
local loaded_at = 0
local n = 0
local last_class
local paths = { "/restapi/dev/orders", "/httpapi/dev/orders" }
counts = {}

local function load()
  for _, c in ipairs(names) do
    local f = io.open(dir .. "/" .. c .. ".tok", "r")
    if f then
      local list = {}
      for line in f:lines() do
        if #line > 0 then table.insert(list, line) end
      end
      f:close()
      if #list > 0 then tokens[c] = list end
    end
  end
end

function init(args)
  dir = args[1]
  mix, names = {}, {}
  local seen = {}
  for c in string.gmatch(args[2], "[^,]+") do
    table.insert(mix, c)
    if not seen[c] then
      seen[c] = true
      table.insert(names, c)
    end
  end
  n = (tid or 0) * 7 -- threads start at different points of the cycle
  load()
  loaded_at = now_ms()
end

function request()
  local t = now_ms()
  if t - loaded_at >= 200 then
    load()
    loaded_at = t
  end
  n = n + 1
  local c = mix[(n % #mix) + 1]
  local cycle = math.floor(n / #mix)
  local list = tokens[c]
  last_class = c
  return wrk.format("GET", paths[(cycle % 2) + 1],
    { ["Authorization"] = "Bearer " .. list[(cycle % #list) + 1] })
end

function response(status, headers, body)
  local k = math.floor(now_ms() / 100) .. "|" .. last_class .. "|" .. status
  counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests)
  -- done runs in wrk's main Lua state, where init() did not run: the result
  -- goes to stdout on one marked line for the driver.
  local all = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then
      for k, v in pairs(c) do all[k] = (all[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, '"' .. k .. '":' .. v) end
  io.write("LOADCHECK_RESULT ", '{"requests":', summary.requests, ',"durationUs":', summary.duration,
    ',"errors":{"connect":', summary.errors.connect, ',"read":', summary.errors.read,
    ',"write":', summary.errors.write, ',"timeout":', summary.errors.timeout, '}',
    ',"latencyUs":{"p50":', latency:percentile(50), ',"p90":', latency:percentile(90),
    ',"p99":', latency:percentile(99), ',"p999":', latency:percentile(99.9),
    ',"max":', latency.max, ',"mean":', latency.mean, '},"counts":{', table.concat(parts, ","), "}}\n")
end
