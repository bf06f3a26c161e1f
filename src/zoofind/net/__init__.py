"""The one network layer: every request zoofind makes goes through here.

* ``http``: ``Session`` (one source call's HTTP, its deadline, retries, capped bodies) and
  ``Deadline``; refuses to send anything when the call's ``Context`` is offline.
* ``wire``: zoofind's HTTP/1.1 on the standard library's ``http.client`` (kept-alive
  connections, proxies, verified TLS, timeouts), for API calls and download bodies alike;
  ``transport``: its addresses, headers, TLS context and failures.
* ``proxy``: which proxy a URL goes through, the environment read as httpx reads it.
* ``retry``: the retry policy (stamina: exponential backoff with jitter, ``Retry-After``,
  nothing retried on other 4xx, never past the deadline).
* ``errors``: the one mapping from transport exceptions and HTTP statuses to zoofind's
  error kinds (``errors.describe`` and the answer cache's "is this transient" use it).
* ``probe``: the reachability check `zoofind sources` makes.
* ``answers``: live answers cached on disk with a TTL, served stale when the network is down.
* ``deadline``: one call's time budget, shared by its requests.

Nothing here is imported on the offline search path (the HTTP stack costs ~60 ms to import).
"""
