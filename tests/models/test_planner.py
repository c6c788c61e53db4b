"""The work-memory planner: liveness-based reuse, alignment, no overlap of live tensors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.sim.planner import WORK_ALIGNMENT, Interval, plan


def test_a_chain_reuses_memory_so_work_is_below_the_sum():
    chain = [Interval(f"t{i}", 1000, i, i + 1) for i in range(6)]
    placements, work = plan(chain)
    assert work == 2 * 1024  # two neighbours live at once, each rounded to 64
    assert work < sum(t.nbytes for t in chain)
    assert placements["t0"].offset == placements["t2"].offset == 0


def test_offsets_are_aligned():
    placements, _ = plan([Interval("a", 3, 0, 1), Interval("b", 5, 1, 2)])
    assert all(p.offset % WORK_ALIGNMENT == 0 for p in placements.values())


intervals = st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 20), st.integers(0, 5)),
                     max_size=25).map(lambda items: [Interval(f"t{i}", n, s, s + d)
                                                     for i, (n, s, d) in enumerate(items)])


@settings(max_examples=200, deadline=None)
@given(intervals)
def test_tensors_live_at_the_same_time_never_overlap(tensors):
    placements, work = plan(tensors)
    for a in tensors:
        pa = placements[a.name]
        assert pa.offset + pa.nbytes <= work
        for b in tensors:
            if a.name < b.name and a.first <= b.last and b.first <= a.last:
                pb = placements[b.name]
                assert pa.offset + pa.nbytes <= pb.offset or pb.offset + pb.nbytes <= pa.offset
