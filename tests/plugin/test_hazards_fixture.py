"""``acl_hazards``: a suite test can assert that a usage pattern produced no hazard, and see
the hazards a broken one produced."""

from __future__ import annotations

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers",
         "-W", "ignore::pytest_acl.sim.sanitizer.HazardWarning")


def test_hazards_of_the_test_are_visible(pytester, built_catalog):
    directory, _ = built_catalog
    pytester.makepyfile(f"""
        MODEL = {str(directory / "mlp.om")!r}

        def test_clean(acl, acl_device, acl_hazards):
            model_id, _ = acl.mdl.load_from_file(MODEL)
            acl.mdl.unload(model_id)
            assert acl_hazards.supported and acl_hazards.new() == []

        def test_freed_under_a_model(acl, acl_device, acl_hazards):
            weight = acl.mdl.query_size(MODEL)[1]
            ptr, _ = acl.rt.malloc(weight, 0)
            model_id, _ = acl.mdl.load_from_file_with_mem(MODEL, 0, 0, ptr, weight)
            acl.rt.free(ptr)
            acl.mdl.unload(model_id)
            (hazard,) = acl_hazards.new()
            assert hazard.kind == "freed_while_loaded" and hazard.model_ids == (model_id,)

        def test_next_test_starts_empty(acl, acl_hazards):
            assert acl_hazards.new() == []
    """)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=3)
