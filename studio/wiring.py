"""How the tabs' events run: page-only events, and the queue's slots (so the fast tabs never wait behind a run)."""

# Public endpoints have names; page-only events are private (not callable by API clients) and skip the queue.
PAGE_ONLY = dict(queue=False, api_visibility="private")
OPTIMIZE_SLOT = dict(concurrency_limit=1, concurrency_id="optimize")  # one optimization at a time
LIGHT_SLOT = dict(concurrency_limit=2, concurrency_id="light")  # restoring a PNG decodes it: queued, not behind a run
FAST_SLOT = dict(concurrency_limit=1, concurrency_id="instant")  # Instant, built-in and trained styles
WEBCAM_SLOT = dict(concurrency_limit=2, concurrency_id="webcam")
