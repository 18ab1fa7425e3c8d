"""Caching: the snapshot cache (:mod:`.snapshot_cache`) over an in-process or Redis backend
(:mod:`.memory`, :mod:`.redis`), its keys (:mod:`.keys`), the circuit breaker, single flight and
byte-bounded memos (:mod:`.sized`), and the rate-limit buckets and cost budgets kept beside it.

Values are opaque bytes: nothing here knows the data it stores.
"""
