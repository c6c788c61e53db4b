"""Surviving what a real device does now and then: a test that crashes its process or hangs.

- ``flight``: each test process keeps a black box on disk — the test running, the ACL call in
  flight, its deadline, and (from faulthandler) the stacks of its threads when it dies.
- ``timeouts``: the per-test limit (pytest-timeout decides which limit applies; the standard
  library's faulthandler watchdog enforces it, even on a call stuck in C).
- ``isolate``: ``--acl-isolate`` runs a serial session in one replaceable xdist worker.
- ``controller``: on the xdist controller, a dead worker becomes a ``crash`` or ``timeout``
  record, its device is probed (``health``) and quarantined (``devices``) when it fails, and
  the scheduler (``scheduler``) keeps quarantined devices' workers idle.
"""
