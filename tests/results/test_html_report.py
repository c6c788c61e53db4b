"""report.html: self-contained, and working in a real headless browser — the matrix renders
and the outcome filter hides the other rows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap

import pytest

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def report(pytester):
    pytester.makefile(".toml", clauses=textwrap.dedent("""
        [[clause]]
        id = "demo.one"
        api = "aclmdlDemo"
        source = "seeds/000"
        level = "must"
        text = "The demo clause holds."
    """))
    pytester.makepyfile(test_demo=textwrap.dedent("""
        import pytest

        @pytest.mark.acl_clause("demo.one")
        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_ok(n):
            pass

        @pytest.mark.acl_clause("demo.one")
        def test_bad(acl, acl_device):
            ptr, ret = acl.rt.malloc(0, 0)
            assert ret == 0, "malloc(0) is refused"
    """))
    pytester.runpytest(*INNER, "--acl-report-dir", "out")
    (run,) = list((pytester.path / "out").iterdir())
    return run / "report.html"


def test_the_page_is_self_contained_and_complete(report):
    page = report.read_text()
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert "<table id='matrix'>" in page and "demo.one" in page
    assert "The demo clause holds." in page and "seeds/000" in page
    assert "acl.rt.malloc→100000 ACL_ERROR_INVALID_PARAM" in page
    assert "id=\"verdict\">FAIL</p>" in page
    environment = page.split("<pre id=\"environment\">", 1)[1].split("</pre>", 1)[0]
    assert json.loads(environment.replace("&quot;", '"'))["backend"] == "sim"


def render_in_browser(url: str, tmp_path) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
         "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_matrix_renders_and_the_outcome_filter_works_in_chromium(report, tmp_path):
    assert CHROMIUM is not None, "CI must provide Chromium (apt-get install chromium)"
    everything = render_in_browser(report.as_uri(), tmp_path)
    assert re.search(r"<td>demo</td><td>-</td><td class=\"pass\">3</td>"
                     r"<td class=\"fail\">1</td>", everything)
    assert '<span id="shown">4</span>' in everything
    filtered = render_in_browser(report.as_uri() + "#outcome=fail", tmp_path)
    rows = re.findall(r'<tr class="test( hidden)?" data-outcome="(\w+)"', filtered)
    assert sorted(rows) == [("", "fail"), (" hidden", "pass"), (" hidden", "pass"),
                            (" hidden", "pass")]
    assert '<span id="shown">1</span>' in filtered
