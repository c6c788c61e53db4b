"""The random-mutation strategy, and the reader's promise under it: an OmError or a model,
never another exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_acl.om.bundle import Bundle, read_bundle
from pytest_acl.om.mutations import om_mutations
from pytest_acl.om.reader import LOAD_FILE, LOAD_MEM, QUERY, OmError, expected_sizes, read_model
from pytest_acl.om.samples import static_model

VALID = static_model().to_bytes()
VALID_BUNDLE = Bundle(64, [VALID, VALID]).to_bytes()


@settings(max_examples=300, deadline=None)
@given(om_mutations(VALID), st.sampled_from([LOAD_FILE, LOAD_MEM, QUERY]))
def test_random_mutations_are_read_or_refused_with_a_code(data, options):
    try:
        model = read_model(data, options)
    except OmError as error:
        assert error.code > 0
    else:
        work, weight = expected_sizes(model)
        assert work >= 0 and 0 <= weight <= len(data)


@settings(max_examples=200, deadline=None)
@given(om_mutations(VALID_BUNDLE))
def test_random_bundle_mutations_are_read_or_refused_with_a_code(data):
    try:
        bundle = read_bundle(data)
        for sub in bundle.models:
            read_model(sub)
    except OmError as error:
        assert error.code > 0


@settings(max_examples=50, deadline=None)
@given(om_mutations(VALID))
def test_mutations_change_the_file(data):
    assert data != VALID
