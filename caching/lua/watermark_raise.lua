-- KEYS: the watermark. ARGV: a committed write's LSN, or "" when it is unknown; a token.
-- Keeps the highest LSN: announcements of two writes may arrive in either order. A write
-- of unknown LSN leaves "unknown:<token>", which only a reader replaces, by the primary's
-- LSN read after it (watermark_establish.lua): no known LSN is sure to be past that write.
local known = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  redis.call('SET', KEYS[1], 'unknown:' .. ARGV[2])
elseif known == false then
  redis.call('SET', KEYS[1], ARGV[1])
elseif tonumber(known) ~= nil and tonumber(ARGV[1]) > tonumber(known) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
