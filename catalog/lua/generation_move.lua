-- KEYS: generation key. ARGV: LSN. Keeps the highest LSN (announcements may cross).
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
