"""A hypothesis state machine over the model and bundle lifecycle: load (any model variant),
execute, unload, bundle init, bundle graph load, bundle unload — with live ids unique,
outputs correct, memory accounting consistent, and full teardown back to the baseline.

The level's examples are split over ``PARTS`` tests, each with a seed of its own (a full run's
derandomized seed comes from the machine's name): one test of them all was half of a full
run's time, which ``-n`` could not share between workers."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from pytest_acl.oracles import device_used, execute_and_compare
from pytest_acl.variants import (
    BUNDLE_VARIANTS,
    MODEL_VARIANTS,
    USER,
    Ownership,
    load_bundle_graph,
    load_model,
    open_bundle,
)

MODELS = ("mlp", "conv", "noweights")
PARTS = 4
INIT_VARIANT = next(v for v in BUNDLE_VARIANTS if v.name == "bundle_init_file_load_model_with_mem")


@pytest.mark.acl_clause("lifecycle.state_machine_invariants",
                        "lifecycle.ids_unique_among_live_models")
@pytest.mark.acl_requires("mdl.bundle_init_from_file", "mdl.bundle_load_model_with_mem",
                          "mdl.bundle_unload_model")
@pytest.mark.parametrize("part", range(PARTS))
def test_lifecycle_state_machine(acl, acl_device, acl_models, part):
    baseline = device_used(acl)

    class Lifecycle(RuleBasedStateMachine):
        models = Bundle("models")
        bundles = Bundle("bundles")

        def __init__(self) -> None:
            super().__init__()
            self.live: dict[int, tuple[object, object, int | None]] = {}
            self.open_bundles: dict[int, object] = {}

        @rule(target=models, name=st.sampled_from(MODELS),
              variant=st.sampled_from(MODEL_VARIANTS),
              user=st.booleans())
        def load(self, name, variant, user):
            ownership = Ownership(USER, USER) if user and variant.with_mem else Ownership()
            loaded, ret = load_model(variant, acl, acl_models[name], ownership)
            assert ret == 0, f"{variant.name} {name}: {ret}"
            assert loaded.model_id not in self.live
            self.live[loaded.model_id] = (loaded, acl_models[name], None)
            return loaded.model_id

        @rule(model_id=models)
        def execute(self, model_id):
            if model_id in self.live:
                _, entry, index = self.live[model_id]
                execute_and_compare(acl, model_id, entry.inputs(index), entry.outputs(index))

        @rule(model_id=consumes(models))
        def unload(self, model_id):
            if model_id in self.live:
                loaded, _, index = self.live.pop(model_id)
                if index is None:
                    loaded.release()
                else:
                    assert acl.mdl.bundle_unload_model(loaded.bundle_id, model_id) == 0

        @rule(target=bundles)
        def bundle_init(self):
            """Init, then run var_init once so the shared variable holds its reference value
            (graphs 0 and 1 — var_init and infer — keep it; var_update would change it)."""
            entry = acl_models["bundle3"]
            bundle, ret = open_bundle(INIT_VARIANT, acl, entry)
            assert ret == 0 and bundle.bundle_id not in self.open_bundles
            init_id, ret = load_bundle_graph(INIT_VARIANT, bundle, entry, 0, Ownership())
            assert ret == 0
            execute_and_compare(acl, init_id, entry.inputs(0), entry.outputs(0))
            assert acl.mdl.bundle_unload_model(bundle.bundle_id, init_id) == 0
            self.open_bundles[bundle.bundle_id] = bundle
            return bundle.bundle_id

        @rule(target=models, bundle_id=bundles, index=st.integers(0, 1), user=st.booleans())
        def bundle_load_graph(self, bundle_id, index, user):
            if bundle_id not in self.open_bundles:
                return -1
            bundle = self.open_bundles[bundle_id]
            model_id, ret = load_bundle_graph(INIT_VARIANT, bundle, acl_models["bundle3"], index,
                                              Ownership(USER, USER) if user else Ownership())
            assert ret == 0 and model_id not in self.live
            self.live[model_id] = (bundle, acl_models["bundle3"], index)
            return model_id

        @rule(bundle_id=consumes(bundles))
        def bundle_unload(self, bundle_id):
            bundle = self.open_bundles.pop(bundle_id, None)
            if bundle is not None:
                for model_id in [m for m, (owner, _, i) in self.live.items() if owner is bundle]:
                    del self.live[model_id]
                bundle.release()

        @invariant()
        def memory_is_used_while_models_live(self):
            used = device_used(acl)
            assert used >= baseline
            if not self.live and not self.open_bundles:
                assert used == baseline

        def teardown(self):
            for loaded, _, index in list(self.live.values()):
                if index is None:
                    loaded.release()
            for bundle in self.open_bundles.values():
                bundle.release()
            assert device_used(acl) == baseline

    examples = examples_of_part(settings.default.max_examples, part)
    machine = type(f"LifecyclePart{part}", (Lifecycle,), {})
    run_state_machine_as_test(machine, settings=settings(max_examples=examples))


def examples_of_part(total: int, part: int) -> int:
    """This part's share of the level's examples: the parts add up to ``total`` (at least
    one each)."""
    return max(total // PARTS + (part < total % PARTS), 1)
