/**
 * The Lua scripts that send a write again after a Sentinel failover (see `write-replays.ts`).
 * Each writes only where the new primary shows the write missing and nothing written since, so
 * that a replay never overwrites a newer write of another instance. Sentinel has one primary, so
 * a script may touch two keys (the session and its tombstone).
 */
import { EDIT_STORED_OBJECT } from './scripts';

/**
 * The replay of a merge patch after a Sentinel failover (see `write-replays.ts`): each key of the
 * patch is written only where the new primary still holds what the request had read (the
 * patch was lost), left alone where it holds the patched value (it arrived) or anything else
 * (written since). A missing record stays missing. Answers 0 (all there), 1 (restored, at least
 * in part) or 2 (nothing restored: changed since, or gone).
 * KEYS[1]: the session key; ARGV: cookie JSON, PX milliseconds ('' keeps the TTL), the number N
 * of set triples, N triples (JSON key, JSON value, what was read), then pairs (JSON key, what
 * was read) of the deleted keys. "What was read" is `=` and the JSON value, `-` for a key that
 * was absent, or `?` when unknown (never matches).
 */
export const REPLAY_PATCH = `
local json = redis.call('GET', KEYS[1])
if not json then return 2 end
${EDIT_STORED_OBJECT}
local function was(read, current)
  if read == '-' then return current == nil end
  return string.sub(read, 1, 1) == '=' and current == string.sub(read, 2)
end
local restored, skipped = 0, 0
local a = 4
for _ = 1, tonumber(ARGV[3]) do
  local at = index[ARGV[a]]
  local current = at and vals[at] or nil
  if current ~= ARGV[a + 1] then
    if was(ARGV[a + 2], current) then
      put(ARGV[a], ARGV[a + 1])
      restored = restored + 1
    else skipped = skipped + 1 end
  end
  a = a + 3
end
while a + 1 <= #ARGV do
  local at = index[ARGV[a]]
  if at then
    if was(ARGV[a + 1], vals[at]) then
      removed[ARGV[a]] = true
      restored = restored + 1
    else skipped = skipped + 1 end
  end
  a = a + 2
end
if restored == 0 then
  if skipped > 0 then return 2 end
  return 0
end
save(ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * The replay of a whole-record write (`set`, the compare-and-set `touch`) after a Sentinel
 * failover: written only where the new primary still holds what the request had read (the write
 * was lost). Answers 0 (the value is there), 1 (restored) or 2 (left alone: written since).
 * KEYS[1]: the session key; KEYS[2]: its tombstone (a destroy during the failover).
 * ARGV: the value written; what was read: `absent` (a new session: restored only when the key
 * is missing and has no tombstone), `known` (then ARGV[3], the value read) or `unknown` (never
 * restored); ARGV[4]: PX milliseconds ('' for no expiry).
 */
export const REPLAY_SET = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return 0 end
local lost = false
if ARGV[2] == 'absent' then lost = (not current) and redis.call('EXISTS', KEYS[2]) == 0
elseif ARGV[2] == 'known' then lost = current == ARGV[3] end
if not lost then return 2 end
if ARGV[4] == '' then redis.call('SET', KEYS[1], ARGV[1])
else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4]) end
return 1`;

/**
 * The replay of a destroy after a Sentinel failover: deletes the session and leaves a tombstone
 * (so that no other instance's replay of its creation brings it back). Answers 1 (deleted now:
 * the destroy was lost) or 0 (already gone).
 * KEYS[1]: the session key; KEYS[2]: its tombstone; ARGV[1]: the tombstone's PX milliseconds.
 */
export const REPLAY_DESTROY = `
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return redis.call('DEL', KEYS[1])`;

/**
 * The replay of an `EXPIRE` touch after a Sentinel failover: extends the key's TTL to ARGV[1]
 * milliseconds when it is shorter (a missing key stays missing). Answers 1 (extended) or 0.
 */
export const REPLAY_EXPIRE = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 or ttl == -1 or ttl >= tonumber(ARGV[1]) then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;
