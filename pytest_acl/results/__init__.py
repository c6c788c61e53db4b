"""Run results: one JSON record per test, streamed to ``results.jsonl``, and views on them."""
