/**
 * The Lua scripts RedisStore sends with `EVAL` (single key each, so Cluster-safe), one per
 * operation that must read and write atomically. Kept as strings in this one module (rather than
 * `.lua` files) so that `tsc` packs them into `dist` with nothing to copy.
 */

/**
 * `touch` of a session read in this request: rewrite the record (new cookie expiry, same data)
 * only if it is still byte-for-byte what was read (answers 1); otherwise leave it (answers 2:
 * whoever changed it wrote a fresh expiry). A missing key stays missing (answers -1).
 */
export const TOUCH_IF_UNCHANGED = `
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 2`;

/**
 * Per-user index: add a session id to the user's set and make the set live at least as long as
 * the session (`EXPIRE` only ever extends it).
 */
export const ADD_USER_SESSION = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1`;

/**
 * Lua shared by the scripts that edit a stored JSON session in place: given `json` (the stored
 * value), splits its top level into raw key/value substrings (`keys`, `vals`, `index`: values are
 * never re-encoded, so nothing the store holds is altered); `put(k, v)` replaces or appends a key,
 * `removed[k] = true` drops one, and `save(cookie, unit, ttl)` writes the object back with the
 * cookie replaced (`ttl` '' keeps the key's TTL, else `SET … <unit> <ttl>`).
 */
export const EDIT_STORED_OBJECT = `
local n, i = #json, 1
local function ws()
  while i <= n do
    local b = string.byte(json, i)
    if b == 32 or b == 9 or b == 10 or b == 13 then i = i + 1 else return end
  end
end
local function str()
  local s = i
  i = i + 1
  while i <= n do
    local b = string.byte(json, i)
    if b == 92 then i = i + 2
    elseif b == 34 then i = i + 1; return string.sub(json, s, i - 1)
    else i = i + 1 end
  end
  error('unterminated JSON string')
end
local function value()
  local s = i
  local b = string.byte(json, i)
  if b == 34 then return str() end
  if b == 123 or b == 91 then
    local depth = 0
    while i <= n do
      b = string.byte(json, i)
      if b == 34 then str()
      else
        if b == 123 or b == 91 then depth = depth + 1
        elseif b == 125 or b == 93 then depth = depth - 1 end
        i = i + 1
        if depth == 0 then return string.sub(json, s, i - 1) end
      end
    end
    error('unterminated JSON value')
  end
  while i <= n do
    b = string.byte(json, i)
    if b == 44 or b == 125 or b == 32 or b == 9 or b == 10 or b == 13 then break end
    i = i + 1
  end
  return string.sub(json, s, i - 1)
end
local keys, vals, index = {}, {}, {}
ws()
if string.byte(json, i) ~= 123 then return redis.error_reply('stored session is not a JSON object') end
i = i + 1
ws()
if string.byte(json, i) == 125 then i = i + 1 else
  while true do
    ws()
    local k = str()
    ws()
    i = i + 1
    ws()
    local v = value()
    keys[#keys + 1] = k
    vals[#vals + 1] = v
    index[k] = #keys
    ws()
    local b = string.byte(json, i)
    i = i + 1
    if b == 125 then break end
    if b ~= 44 then return redis.error_reply('stored session is malformed JSON') end
  end
end
local function put(k, v)
  local at = index[k]
  if at then vals[at] = v else
    keys[#keys + 1] = k
    vals[#vals + 1] = v
    index[k] = #keys
  end
end
local removed = {}
local function save(cookie, unit, ttl)
  put('"cookie"', cookie)
  local parts = {}
  for j = 1, #keys do
    if not removed[keys[j]] then parts[#parts + 1] = keys[j] .. ':' .. vals[j] end
  end
  local out = '{' .. table.concat(parts, ',') .. '}'
  if ttl == '' then redis.call('SET', KEYS[1], out, 'KEEPTTL')
  else redis.call('SET', KEYS[1], out, unit, ttl) end
end
`;

/**
 * `concurrency: 'merge'`: applies a patch to the stored JSON atomically: the changed keys are
 * replaced or appended, the deleted ones dropped, and the cookie replaced (see
 * {@link EDIT_STORED_OBJECT}). A missing key stays missing (no resurrection).
 * KEYS[1]: the session key; ARGV: cookie JSON, TTL seconds ('' keeps the TTL), the number N of
 * set pairs, N pairs of (JSON key, JSON value), then the JSON keys to delete.
 */
export const PATCH_SESSION = `
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
${EDIT_STORED_OBJECT}
local a = 4
for _ = 1, tonumber(ARGV[3]) do
  put(ARGV[a], ARGV[a + 1])
  a = a + 2
end
for j = a, #ARGV do removed[ARGV[j]] = true end
save(ARGV[1], 'EX', ARGV[2])
return 1`;

/**
 * `getAndTouch`: reads a session and refreshes its expiry in the same command, as the request's
 * touch would (see `ReadRefresh`). Answers nil for a missing key (never created: no
 * resurrection), else `{refreshed, value}`: `1` with the value as now stored when the record was
 * refreshed, or already expires within the margin of the new expiry; `0` with the value
 * unchanged when the record is left alone: it does not start with the expected cookie (another
 * lifetime, such as a "remember me" session, is never shortened; another serializer or layout),
 * or its own expiry has passed (the engine discards it).
 * KEYS[1]: the session key. ARGV: the record's expected start (`{"cookie":{"originalMaxAge":N,
 * "expires":`), then either `'date'`, the new expiry (ISO), now (ISO), the expiry below which it
 * is rewritten (ISO) and the new TTL (ms); or `'none'` (a browser-session cookie), the TTL (ms)
 * and the margin (ms), and only the key's TTL moves. ISO dates of one format compare as strings.
 */
export const READ_AND_TOUCH = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local head = ARGV[1]
local n = #head
if string.sub(v, 1, n) ~= head then return {0, v} end
if ARGV[2] == 'none' then
  if string.sub(v, n + 1, n + 4) ~= 'null' then return {0, v} end
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) - tonumber(ARGV[4]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
  end
  return {1, v}
end
if string.sub(v, n + 1, n + 1) ~= '"' then return {0, v} end
local e = string.find(v, '"', n + 2, true)
if not e then return {0, v} end
local old = string.sub(v, n + 2, e - 1)
if #old ~= #ARGV[3] or old <= ARGV[4] then return {0, v} end
if old >= ARGV[5] then return {1, v} end
local fresh = string.sub(v, 1, n + 1) .. ARGV[3] .. string.sub(v, e)
redis.call('SET', KEYS[1], fresh, 'PX', ARGV[6])
return {1, fresh}`;
