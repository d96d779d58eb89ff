-- KEYS: written-LSN key, object hash (one owner's: one hash tag). ARGV: the write's LSN
-- ("" when unknown), a fresh token, TTL seconds. Keeps the highest LSN, so announcements
-- arriving out of order cannot move it back. A write of unknown LSN leaves
-- "primary:<token>": refill from the primary from then on (no LSN is known to be high
-- enough), under a value no build in flight started from, and every later write replaces
-- the token, for the same reason.
local written = redis.call('GET', KEYS[1])
local known = tonumber(written or '0')
local lsn = tonumber(ARGV[1])
if lsn == nil or known == nil then
  redis.call('SET', KEYS[1], 'primary:' .. ARGV[2], 'EX', ARGV[3])
elseif lsn > known then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
end
return redis.call('DEL', KEYS[2])
