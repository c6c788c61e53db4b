"""report.html: self-contained, and read in a real headless browser — on a passing, a
failing, an interrupted and an empty run: the verdict banner (text and colour), failures
before the matrix, each clause's status from its own checks, the outcome filter, and no
horizontal scrollbar in a 1280 px window. Its parts: local dates from the header, timings
per variant."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import textwrap

import pytest

from pytest_acl.results import environment, timings

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CLAUSES = textwrap.dedent("""
    [[clause]]
    id = "demo.one"
    api = "aclmdlDemo"
    source = "seeds/000"
    level = "must"
    text = "The demo clause holds."

    [[clause]]
    id = "demo.code"
    api = "aclmdlDemo"
    source = "seeds/000"
    level = "observed"
    text = "The demo refusal is 145000."

    [[clause]]
    id = "demo.gated"
    api = "aclmdlDemo"
    source = "seeds/000"
    level = "must"
    text = "Only on another SoC."

    [[clause]]
    id = "demo.skipped"
    api = "aclmdlDemo"
    source = "seeds/000"
    level = "must"
    text = "Its only test skips."
""")
PASSING = textwrap.dedent("""
    import pytest

    @pytest.mark.acl_clause("demo.one")
    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_ok(n):
        pass

    @pytest.mark.acl_clause("demo.one", "demo.code")
    def test_refusal_code_drifts(acl_expect):
        acl_expect.refusal(100000, 145000, "demo.one", "demo.code")

    @pytest.mark.acl_clause("demo.gated")
    @pytest.mark.acl_soc("Ascend310P*")
    def test_gated():
        pass

    @pytest.mark.acl_clause("demo.skipped")
    def test_skipped():
        pytest.skip("not today")
""")
FAILING = PASSING + textwrap.dedent("""
    @pytest.mark.acl_clause("demo.one")
    def test_bad(acl, acl_device):
        ptr, ret = acl.rt.malloc(0, 0)
        assert ret == 0, "malloc(0) is refused"

    @pytest.mark.acl_clause("demo.one")
    @pytest.mark.parametrize("name", ["a_parameter_without_any_space_" * 8])
    def test_with_a_long_node_id(name):
        assert name == "x" * 300
""")
INTERRUPTED = PASSING + textwrap.dedent("""
    def test_stopped_here():
        raise KeyboardInterrupt

    @pytest.mark.acl_clause("demo.one")
    def test_never_run():
        pass
""")
RUNS = {"passing": (PASSING, ()), "failing": (FAILING, ()),
        "interrupted": (INTERRUPTED, ("-p", "no:randomly")), "empty": (PASSING, ("-k", "nothing"))}
# verdict, banner class, background colour, clause statuses from their own checks
EXPECTED = {
    "passing": ("PASS", "verdict-pass", "rgb(26, 127, 55)",
                {"demo.one": "pass", "demo.code": "drift", "demo.gated": "not supported",
                 "demo.skipped": "not run"}),
    "failing": ("FAIL", "verdict-fail", "rgb(207, 34, 46)",
                {"demo.one": "fail", "demo.code": "drift", "demo.gated": "not supported",
                 "demo.skipped": "not run"}),
    "interrupted": ("INCOMPLETE", "verdict-incomplete", "rgb(154, 103, 0)",
                    {"demo.one": "pass", "demo.code": "drift",
                     "demo.gated": "not supported", "demo.skipped": "not run"}),
    "empty": ("NO TESTS", "verdict-no-tests", "rgb(87, 96, 106)",
              dict.fromkeys(("demo.one", "demo.code", "demo.gated", "demo.skipped"), "not run")),
}
SECTIONS = ("banner", "failures", "clause-statuses", "matrix", "timings", "tests", "environment")


@pytest.fixture
def make_report(pytester):
    pytester.makefile(".toml", clauses=CLAUSES)

    def make(kind: str):
        source, args = RUNS[kind]
        pytester.makepyfile(test_demo=source)
        run = pytester.runpytest_subprocess if kind == "interrupted" else pytester.runpytest
        run(*INNER, *args, "--acl-report-dir", f"out-{kind}")  # Ctrl-C would end this session
        (run,) = list((pytester.path / f"out-{kind}").iterdir())
        return run / "report.html"

    return make


def test_the_page_is_self_contained_and_complete(make_report):
    page = make_report("failing").read_text()
    assert not re.search(r"""src=["']https?:|<link""", page)  # links to sources only
    assert "<table id='matrix'>" in page and "demo.one" in page
    assert "The demo clause holds." in page and "seeds/000" in page
    assert "<td>acl.rt.malloc → 100000 (ACL_ERROR_INVALID_PARAM)</td>" in page  # test list
    assert 'id="verdict">FAIL</span>' in page
    assert "<dt>backend</dt><dd>sim</dd>" in page and "<dt>SoC</dt>" in page
    assert "<td>report-dir</td><td>out-failing</td><td>command line</td>" in page


def test_a_failure_shows_its_clause_code_by_name_message_and_traceback(make_report):
    page = make_report("failing").read_text()
    failures = page.split("<section id='failures'>", 1)[1].split("</section>", 1)[0]
    bad = next(a for a in failures.split("<article")[1:] if "test_bad" in a)
    assert "clause(s): <code>demo.one</code>" in bad
    assert "acl.rt.malloc → 100000 (ACL_ERROR_INVALID_PARAM)" in bad
    assert "AssertionError: malloc(0) is refused" in bad
    assert "at <code>test_demo.py:" in bad
    traceback = bad.split("<pre class='traceback'>", 1)[1].split("</pre>", 1)[0]
    assert "def test_bad(acl, acl_device):" in html.unescape(traceback)


def render_in_browser(url: str, tmp_path, *flags: str) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
         "--window-size=1300,1000", *flags, "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def read_at_1280(report, tmp_path) -> dict:
    """The report in a 1280 px wide frame: its page's DOM as the browser built it, its width
    and viewport width, and the banner's background colour."""
    frame = tmp_path / "frame.html"
    frame.write_text(
        f"<!DOCTYPE html><html><body style='margin:0'><iframe id='f' src='{report.as_uri()}' "
        "style='width:1280px;height:900px;border:0'></iframe><pre id='out'></pre><script>"
        "document.getElementById('f').addEventListener('load',()=>{"
        "const d=document.getElementById('f').contentDocument,e=d.documentElement;"
        "document.getElementById('out').textContent=JSON.stringify({width:e.scrollWidth,"
        "viewport:e.clientWidth,colour:getComputedStyle(d.getElementById('banner'))"
        ".backgroundColor,dom:e.outerHTML});});</script></body></html>")
    dumped = render_in_browser(frame.as_uri(), tmp_path, "--allow-file-access-from-files")
    measured = re.search(r"<pre id=\"out\">(.*?)</pre>", dumped, re.S)
    assert measured and measured.group(1), "the frame did not load the report"
    return json.loads(html.unescape(measured.group(1)))


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs Debian's chromium)")


@needs_chromium
@pytest.mark.parametrize("kind", list(RUNS))
def test_banner_failures_first_and_clause_statuses_in_chromium(make_report, tmp_path, kind):
    assert CHROMIUM is not None, "CI must provide Chromium (apt-get install chromium)"
    verdict, banner_class, colour, statuses = EXPECTED[kind]
    page = read_at_1280(make_report(kind), tmp_path)
    dom = page["dom"]
    assert f'<header id="banner" class="banner {banner_class}">' in dom
    assert f'<span id="verdict">{verdict}</span>' in dom
    assert page["colour"] == colour
    banner = dom.split('id="banner"', 1)[1].split("</header>", 1)[0]
    assert "<dt>SoC</dt><dd>Ascend" in banner and "<dt>backend</dt><dd>sim</dd>" in banner
    assert re.search(r"<dt>date</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", banner)
    positions = [dom.index(f'id="{section}"') for section in SECTIONS]
    assert positions == sorted(positions), "the sections are out of order"
    shown = dict(re.findall(r'<tr data-clause="([\w.]+)"><td><code>[\w.]+</code></td>'
                            r'<td class="status [\w-]+">([\w ]+)</td>', dom))
    assert shown == statuses
    failures = dom.split('id="failures"', 1)[1].split("</section>", 1)[0]
    assert ("test_bad" in failures) == (kind == "failing")
    assert page["width"] <= page["viewport"] <= 1280, "a horizontal scrollbar at 1280 px"


@needs_chromium
def test_matrix_renders_and_the_outcome_filter_works_in_chromium(make_report, tmp_path):
    assert CHROMIUM is not None, "CI must provide Chromium (apt-get install chromium)"
    report = make_report("failing")
    everything = render_in_browser(report.as_uri(), tmp_path)
    assert re.search(r"<td>demo</td><td>-</td><td class=\"pass\">3</td>"
                     r"<td class=\"fail\">2</td>", everything)
    assert '<span id="shown">8</span>' in everything
    filtered = render_in_browser(report.as_uri() + "#outcome=fail", tmp_path)
    rows = re.findall(r'<tr class="test( hidden)?" data-outcome="(\w+)"', filtered)
    assert sorted(rows) == [("", "fail")] * 2 + [(" hidden", "drift")] + \
        [(" hidden", "not_supported")] + [(" hidden", "pass")] * 3 + [(" hidden", "skip")]
    assert '<span id="shown">2</span>' in filtered


def test_dates_are_the_run_hosts_local_time_from_the_header():
    assert environment.local_time({"started": 0, "utc_offset": 8 * 3600}) == \
        "1970-01-01 08:00:00 UTC+08:00"
    assert environment.local_time({"started": 0}) == "1970-01-01 00:00:00 UTC"
    assert environment.local_time({}) == "unknown"
    merged = {"merged_from": [{"host": "b", "started": 90, "soc": "S"},
                              {"host": "a", "started": 30, "soc": "S"}], "level": "full"}
    assert dict(environment.facts(merged)) == {
        "SoC": "S", "CANN": "unknown", "driver": "unknown", "backend": "unknown",
        "host": "b, a", "date": "1970-01-01 00:00:30 UTC", "level": "full"}


def test_timings_are_medians_per_variant_with_bundle_phases_as_load_and_unload():
    records = [{"axes": {"variant": "file"}, "timings": {"load": t, "execute": 2 * t}}
               for t in (0.001, 0.003, 0.002)]
    records += [{"axes": {"variant": "bundle"}, "timings": {"bundle_init": 0.001,
                                                             "bundle_load": 0.002,
                                                             "bundle_unload": 0.004}},
                {"axes": {}, "timings": {}}]
    assert timings.per_variant(records) == [
        ("bundle", 1, {"load": pytest.approx(0.003), "unload": 0.004}),
        ("file", 3, {"load": 0.002, "execute": 0.004})]
    plot = timings.plot(timings.per_variant(records))
    assert plot.count('class="bar load"') == 2 and plot.count('class="bar unload"') == 1
    assert "file execute: 4 ms" in plot
