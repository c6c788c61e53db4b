"""Partition tables in both encodings (om-format.md §2.1)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.om.partitions import (
    TableEntry,
    layout,
    pack_table,
    read_count,
    read_entries,
    table_size,
    type_name,
)

entries64 = st.lists(st.builds(TableEntry, st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1),
                               st.integers(0, 2**64 - 1)), max_size=10)
entries32 = st.lists(st.builds(TableEntry, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                               st.integers(0, 2**32 - 1)), max_size=10)


@settings(max_examples=100, deadline=None)
@given(entries64)
def test_64bit_tables_round_trip(entries):
    packed = pack_table(entries, wide=True)
    assert len(packed) == table_size(len(entries), True) == 8 + 24 * len(entries)
    assert read_count(packed, 0, True) == len(entries)
    assert read_entries(packed, 0, len(entries), True) == entries


@settings(max_examples=100, deadline=None)
@given(entries32)
def test_legacy_tables_round_trip(entries):
    packed = pack_table(entries, wide=False)
    assert len(packed) == table_size(len(entries), False) == 4 + 12 * len(entries)
    assert read_entries(packed, 0, len(entries), False) == entries


def test_layout_packs_partitions_back_to_back_from_the_table_end():
    assert layout([(0, 10), (1, 5), (2, 0)]) == [TableEntry(0, 0, 10), TableEntry(1, 10, 5),
                                                 TableEntry(2, 15, 0)]


def test_unknown_types_have_a_name_instead_of_an_error():
    assert type_name(1) == "WEIGHTS_DATA"
    assert type_name(25) == "BUNDLE_MODEL_VAR_INFO"
    assert type_name(99) == "UNKNOWN_99"
