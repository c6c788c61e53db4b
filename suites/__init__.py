"""The AscendCL model-loading conformance suite (installed as ``pytest_acl.suites``).

Run it with ``pytest-acl run`` (anywhere: the suite's own settings, suite.ini) or
``pytest suites`` in a checkout.
"""
