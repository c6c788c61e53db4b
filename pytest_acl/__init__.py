"""pytest-acl: a pytest plugin and conformance suite for the AscendCL model-loading API.

Importing this package is cheap and side-effect free: no backend is imported and nothing is
initialised until a fixture asks for it (DESIGN.md, "Constraints").
"""

__version__ = "0.1.0"
