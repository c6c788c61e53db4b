"""AscendCL as a C API: our headers (``include/acl/*.h``), what they declare
(:mod:`pytest_acl.capi.prototypes`) and the simulator built as ``libascendcl.so``."""
