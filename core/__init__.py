"""Small pieces every other package leans on: errors, the circuit breaker, in-process counters,
Redis access that degrades instead of failing, Lua scripts, request ids. Imports nothing above."""
