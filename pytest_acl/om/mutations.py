"""A hypothesis strategy of random OM mutations, for fuzzing every loader and query API.

``om_mutations(valid)`` draws byte flips at any offset, truncation at any length, header field
edits and partition-table edits of a valid model. The expected outcome of a random mutation
is not known in advance; what holds for all of them is that a loader returns an aclError (or
succeeds) and never raises, hangs or leaks — the property the suites check.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from pytest_acl.om.header import HEADER_SIZE

# Header fields worth editing: (offset, struct format) — om-format.md §1.
HEADER_FIELDS = {"magic": (0, "<I"), "headsize": (4, "<I"), "version": (8, "<I"),
                 "length": (76, "<I"), "is_encrypt": (80, "<B"), "modeltype": (82, "<B"),
                 "model_num": (156, "<I"), "model_length": (184, "<Q"),
                 "is_unknow_model": (193, "<B")}
_INTERESTING = [0, 1, 2, 5, 8, 9, 255, 256, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63, 2**64 - 1]


def _flip(data: bytes, offset: int, mask: int) -> bytes:
    offset %= len(data)
    return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1:]


def _set(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    size = struct.calcsize(fmt)
    if offset + size > len(data):
        return data
    value &= (1 << (8 * size)) - 1
    return data[:offset] + struct.pack(fmt, value) + data[offset + size:]


def om_mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Random single mutations of ``valid`` (bytes of an OM or bundle file)."""
    flips = st.builds(_flip, st.just(valid), st.integers(0, len(valid) - 1),
                      st.integers(1, 255))
    truncations = st.integers(0, len(valid) - 1).map(lambda n: valid[:n])
    header_edits = st.builds(
        lambda field, value: _set(valid, *HEADER_FIELDS[field], value),
        st.sampled_from(sorted(HEADER_FIELDS)),
        st.one_of(st.sampled_from(_INTERESTING), st.integers(0, 2**64 - 1)))
    table_edits = st.builds(
        lambda entry, part, value: _set(valid, HEADER_SIZE + (8 + 24 * entry + part
                                                              if entry >= 0 else 0),
                                        "<Q" if part >= 8 else "<I", value),
        st.integers(-1, 3), st.sampled_from([0, 8, 16]),
        st.one_of(st.sampled_from(_INTERESTING), st.integers(0, 2**64 - 1)))
    appended = st.binary(min_size=1, max_size=64).map(lambda extra: valid + extra)
    return st.one_of(flips, truncations, header_edits, table_edits, appended).filter(
        lambda data: data != valid)  # an edit that writes the old value is no mutation
