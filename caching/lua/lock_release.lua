-- KEYS: lock key. ARGV: our token. Only our own lock: after its TTL it may be another's.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
