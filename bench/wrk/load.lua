-- One wrk script for every scenario of `make bench`. Configured through the environment, so
-- the runner never writes Lua:
--   WRK_METHOD        GET (default) or POST
--   WRK_BODY          a static request body (form-urlencoded, or WRK_CONTENT_TYPE)
--   WRK_CONTENT_TYPE  the static body's Content-Type, if not a form
--   WRK_AUTH          the Authorization header value, if any
--   WRK_ROTATE_FILE   refresh-token rotation: a file of refresh tokens, one per line; each
--                     request spends one and the new token from its response goes back to the
--                     pool, so no token is ever sent twice (a reuse would revoke its family)
--   WRK_ROTATE_BODY   the body before the refresh token (WRK_BODY is ignored in rotation mode)
-- At the end it prints one line "BENCH_JSON {...}" with the counts and latency percentiles
-- (microseconds) that the runner parses; wrk's own summary is printed too.

wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
   wrk.body = body
   local content_type = os.getenv("WRK_CONTENT_TYPE")
   if not content_type or content_type == "" then
      content_type = "application/x-www-form-urlencoded"
   end
   wrk.headers["Content-Type"] = content_type
end
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then
   wrk.headers["Authorization"] = auth
end

local rotate_file = os.getenv("WRK_ROTATE_FILE")
if rotate_file and rotate_file ~= "" then
   local prefix = os.getenv("WRK_ROTATE_BODY") or ""
   local pool, head, tail = {}, 1, 0
   for line in io.lines(rotate_file) do
      if line ~= "" then
         tail = tail + 1
         pool[tail] = line
      end
   end
   local last = pool[1]
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

   request = function()
      local token = last
      if head <= tail then
         token = pool[head]
         pool[head] = nil
         head = head + 1
      end
      -- An empty pool means responses failed; resending the last token makes that visible
      -- as errors instead of hiding it.
      last = token
      return wrk.format(nil, nil, nil, prefix .. token)
   end

   response = function(status, headers, resp_body)
      local token = resp_body and string.match(resp_body, '"refresh_token"%s*:%s*"([^"]+)"')
      if status == 200 and token then
         tail = tail + 1
         pool[tail] = token
      end
   end
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
