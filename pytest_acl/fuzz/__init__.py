"""A structure-aware fuzzer for the model-loading API (issue 13).

Valid fixture models and bundles (bases.py) are mutated where a loader looks — header fields,
partition tables, sizes up to 2**64 - 1, the ModelDef and its executable graph, the bundle
container (mutators.py) — and sent through every load, query and bundle entry, executing
what loads (targets.py). The runner (runner.py) holds the promise every input must keep: no
Python exception out of a pyACL call, nothing left behind, every call in bounded time and
memory; what breaks it is a finding, saved with a one-line reproducer (findings.py).
``pytest-acl fuzz`` (command.py) runs a budget in a watched child process (worker.py).
"""
