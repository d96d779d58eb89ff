-- KEYS: page hash. ARGV: page field, SHA-1 of the page the rendering was made from,
-- rendering field, the rendering.
-- Beside that very page only: a write may have replaced or dropped it since it was read.
local page = redis.call('HGET', KEYS[1], ARGV[1])
if not page or redis.sha1hex(page) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1
