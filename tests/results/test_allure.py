"""allure-pytest: labels, excluded parameters, attachments and the run-wide files when it is
installed and --alluredir is given; nothing breaks without it."""

from __future__ import annotations

import json
import textwrap

import pytest

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
TESTS = textwrap.dedent("""
    import pytest

    class V:
        name, family = "mem_with_mem", "model"

    @pytest.mark.acl_clause("demo.one", "demo.two")
    @pytest.mark.parametrize("variant", [V()], ids=["mem_with_mem"])
    def test_load(acl, acl_device, variant):
        acl.rt.malloc(0, 0)
""")


@pytest.fixture
def demo(pytester):
    pytester.makepyfile(test_family=TESTS)
    return pytester


def test_labels_parameters_attachments_and_environment(demo):
    result = demo.runpytest_subprocess(*INNER, "--alluredir", "allure")
    assert result.ret == pytest.ExitCode.OK
    allure_dir = demo.path / "allure"
    (result_file,) = allure_dir.glob("*-result.json")
    data = json.loads(result_file.read_text())
    labels = {(label["name"], label["value"]) for label in data["labels"]}
    assert {("epic", "family"), ("feature", "mem_with_mem"), ("story", "demo.one"),
            ("story", "demo.two")} <= labels
    parameters = {p["name"]: p for p in data["parameters"]}
    assert parameters["device"]["excluded"] and parameters["backend"]["excluded"]
    (attachment,) = [a for a in data["attachments"] if a["name"] == "acl codes and timings"]
    codes = json.loads((allure_dir / attachment["source"]).read_text())["codes"]
    assert codes == [{"code": 100000, "function": "acl.rt.malloc",
                      "name": "ACL_ERROR_INVALID_PARAM"}]
    environment = (allure_dir / "environment.properties").read_text()
    assert "backend=sim\n" in environment and "level=quick\n" in environment
    categories = json.loads((allure_dir / "categories.json").read_text())
    assert any("drift" in c["name"].lower() for c in categories)


def test_nothing_breaks_without_allure(demo):
    result = demo.runpytest(*INNER, "-p", "no:allure_pytest")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
