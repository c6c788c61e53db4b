"""The simulator as a C library: ``pytest-acl sim-lib --out DIR`` builds
``DIR/lib/libascendcl.so`` (build.py) whose exported ``acl*`` functions run the simulator
(exports.py), and copies our headers to ``DIR/include/acl``."""
