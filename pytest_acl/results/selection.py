"""Which collected tests this session runs: its shard (``--acl-shard``) and, when resuming,
not those that already have a final record. Every process computes the same selection
(xdist workers must collect identical lists); only the session's main process checks that
a resumed session collects the run's tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_acl.results import shard as sharding
from pytest_acl.results.parity import unbound_of

if TYPE_CHECKING:
    from pytest_acl.results.resume import ResumeState


class RunSelection:
    def __init__(self, config: pytest.Config, shard: tuple[int, int] | None,
                 durations: Path | None, done: set[str], check: ResumeState | None) -> None:
        self.config = config
        self.shard = shard
        self.durations = durations
        self.done = done
        self.check = check  # the main process's ResumeState (None in workers / new runs)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from pytest_acl.state import get_state

        ids = {id(item): get_state(config).canonical(item.nodeid) for item in items}
        keep = items
        if self.shard is not None:
            weights = sharding.durations(self.durations) if self.durations else None
            bindings = get_state(config).backend_names
            together = (lambda nodeid: unbound_of(nodeid, bindings)) if len(bindings) > 1 \
                else None
            chosen = sharding.select([ids[id(item)] for item in items], self.shard, weights,
                                     together)
            keep = [item for item in items if ids[id(item)] in chosen]
        if self.check is not None:
            from pytest_acl.results.resume import collection_difference

            problem = collection_difference(self.check, {ids[id(item)] for item in keep})
            if problem:
                raise pytest.UsageError(problem)
        keep = [item for item in keep if ids[id(item)] not in self.done]
        if len(keep) != len(items):
            kept = set(map(id, keep))
            config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept])
            items[:] = keep
