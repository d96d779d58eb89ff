-- KEYS: object hash. ARGV: object field, SHA-1 of the object the rendering was made from,
-- rendering field, the rendering.
-- Beside that very object only: a write may have replaced or dropped it since it was read.
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored or redis.sha1hex(stored) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1
