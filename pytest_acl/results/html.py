"""``report.html``: one self-contained page (no network, no external assets) for people.

In the order a reader acts on it: a coloured verdict banner (verdict, why, counts, SoC, CANN,
driver, backend, host, local date, level); the failures — each failing test's clauses, the
aclError codes it saw by name, its message and the first lines of its traceback — and the
behaviour drift; every clause with its status from its own checks (clause_status.py), text
and sources (titles linked to their public pages) — in a parity run also its status
through each binding, side by side, binding defects first after the failures; the
conformance matrix; load, execute
and unload times per variant with a plot (timings.py); every test; the environment
(environment.py). It fits a 1280 px window (long node ids and messages wrap). Test rows can
be filtered by outcome and by API family — with the controls, or from the address
(``report.html#outcome=fail&family=bundles``), which is also how the browser test drives it.

The page is a pure function of the results (``verify`` renders it again and compares).
"""

from __future__ import annotations

import html
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from pytest_acl.clauses import Clause, citations
from pytest_acl.constants import describe
from pytest_acl.results import environment, timings
from pytest_acl.results.clause_status import (
    BINDING_DEFECT,
    DRIFT,
    FAIL,
    STATUSES,
    ClauseStatus,
    checks_of,
    clause_statuses,
    drifted_clauses,
)
from pytest_acl.results.matrix import COLUMNS, family_of, rows
from pytest_acl.results.parity import bindings, with_binding_defects
from pytest_acl.results.parity import describe as parity_of
from pytest_acl.results.records import FAILING, record_key
from pytest_acl.results.verdict import RunVerdict

GROUPS_SHOWN = 50  # kinds of failure shown in full; the rest are in the test list
TESTS_LISTED = 20  # node ids listed per kind of failure
TRACEBACK_LINES = 12
MESSAGE_LINES = 6
STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1em 1.5em;max-width:1280px;
color:#1f2328}
h1{font-size:1.3em;margin:.2em 0 .6em}h2{margin:1.4em 0 .4em;font-size:1.15em}
h3{font-size:1em;margin:0 0 .3em}
table{border-collapse:collapse;margin:.6em 0;max-width:100%}
a{color:#0969da}
td,th{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top;overflow-wrap:break-word}
#clauses,#tests{width:100%;table-layout:fixed}
th{background:#f6f8fa;text-align:left}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;background:#f6f8fa;
padding:6px 8px;margin:.3em 0}
code,.nodeid{font-family:ui-monospace,monospace;font-size:12.5px;overflow-wrap:anywhere}
.banner{border-radius:8px;padding:.8em 1.2em;color:#fff}
.banner p{margin:.2em 0}
.verdict-pass{background:#1a7f37}.verdict-fail{background:#cf222e}
.verdict-incomplete{background:#9a6700}.verdict-no-tests{background:#57606a}
#verdict{font-size:1.8em;font-weight:bold;margin-right:.5em}
.facts{display:flex;flex-wrap:wrap;gap:.2em 1.6em;margin:.4em 0 0}
.facts div{display:flex;gap:.4em}.facts dt{opacity:.85}.facts dd{margin:0;font-weight:600}
.failure{border-left:4px solid #cf222e;padding:.3em .8em;margin:.8em 0;background:#fff8f8}
.drifted{border-left:4px solid #9a6700;padding:.3em .8em;margin:.6em 0;background:#fffbf0}
.failure p,.drifted p{margin:.2em 0}
.pass{color:#1a7f37}.fail,.error,.xpass,.crash,.timeout,.binding_defect,.binding-defect{
color:#cf222e;font-weight:600}
.drift,.known_fail,.waived{color:#9a6700}.not-run,.not-supported,.skip,.not_supported,
.device_lost{color:#57606a}
.hidden{display:none}
dl.environment{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 1.2em}
dl.environment dt{font-weight:600}dl.environment dd{margin:0;overflow-wrap:anywhere}
#timings-plot{max-width:100%;height:auto}
"""
SCRIPT = """
function apply(){const o=document.getElementById('outcome').value,
f=document.getElementById('family').value;let shown=0;
document.querySelectorAll('tr.test').forEach(r=>{const v=(!o||r.dataset.outcome===o)&&
(!f||r.dataset.family===f);r.classList.toggle('hidden',!v);if(v)shown++;});
document.getElementById('shown').textContent=shown;}
function fromHash(){const p=new URLSearchParams(location.hash.slice(1));
for(const k of ['outcome','family'])if(p.has(k))document.getElementById(k).value=p.get(k);apply();}
window.addEventListener('hashchange',fromHash);document.addEventListener('DOMContentLoaded',()=>{
document.getElementById('outcome').onchange=apply;document.getElementById('family').onchange=apply;
fromHash();});
"""
_LOCATION = re.compile(r"^(\S+:\d+): (\w+)$", re.MULTILINE)


def _e(value: object) -> str:
    return html.escape(str(value))


def _css(status: str) -> str:
    """A status as a class name: ``not run`` → ``not-run``."""
    return status.replace(" ", "-")


def _codes(record: dict[str, Any]) -> list[str]:
    """``acl.mdl.load_from_file → 145000 (ACL_ERROR_GE_PARAM_INVALID)``, each once."""
    seen: dict[str, None] = {}
    for entry in record.get("codes") or []:
        code = entry.get("code") if isinstance(entry, dict) else entry
        if isinstance(code, int):
            where = f"{entry.get('function')} → " if isinstance(entry, dict) else ""
            seen[where + describe(code)] = None
    return list(seen)


def _banner(header: dict[str, Any], records: list[dict[str, Any]],
            verdict: RunVerdict) -> str:
    counts = ", ".join(f"{count} {outcome}" for outcome, count in verdict.counts.items())
    facts = "".join(f"<div><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>"
                    for label, value in environment.facts(header))
    return (f"<header id='banner' class='banner verdict-{_css(verdict.verdict.lower())}'>"
            f"<p><span id=\"verdict\">{_e(verdict.verdict)}</span> "
            f"<span id=\"verdict-reasons\">{_e('; '.join(verdict.reasons))}</span></p>"
            f"<p id='counts'>{len(records)} tests{': ' + _e(counts) if counts else ''}</p>"
            f"<dl class='facts'>{facts}</dl></header>")


def _error_lines(record: dict[str, Any]) -> str:
    """The exception the test ended with, else pytest's ``E`` lines of the message, else its
    first lines."""
    message = str(record.get("message") or "")
    lines = str(record.get("error") or "").splitlines() or \
        [line[1:] for line in message.splitlines() if line.startswith("E ") or line == "E"]
    if not lines:
        lines = [line for line in message.splitlines() if line.strip()]
    shown = textwrap.dedent("\n".join(lines[:MESSAGE_LINES])).strip("\n")
    return shown + ("\n…" if len(lines) > MESSAGE_LINES else "")


def _failed_clauses(record: dict[str, Any]) -> list[str]:
    """The clauses a failing test failed in its own checks; all of them when it cannot tell."""
    checks = checks_of(record)
    return [clause for clause, status in checks.items() if status in (FAIL, BINDING_DEFECT)] \
        or list(checks)


def _failure_key(record: dict[str, Any]) -> tuple[Any, ...]:
    """Failures that read the same (outcome, clauses, codes, error lines, place) are shown
    once, with every test that failed so."""
    message = str(record.get("message") or "")
    location = _LOCATION.findall(message)
    return (record["outcome"], tuple(_failed_clauses(record)), tuple(_codes(record)),
            _error_lines(record), location[-1][0] if location else "")


def _grouped(records: list[dict[str, Any]],
             key: Callable[[dict[str, Any]], tuple[Any, ...]]) -> list[list[dict[str, Any]]]:
    """Records that read the same under ``key``, together, in the order they came."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return list(groups.values())


def _test_names(records: list[dict[str, Any]], what: str) -> str:
    """The heading of a group: its one test, or how many and the first of them."""
    names = [record_key(r) for r in records]
    if len(names) == 1:
        return f"<h3 class='nodeid'>{_e(names[0])}</h3>"
    listed = "".join(f"<li class='nodeid'>{_e(n)}</li>" for n in names[:TESTS_LISTED])
    more = f"<li>… and {len(names) - TESTS_LISTED} more</li>" \
        if len(names) > TESTS_LISTED else ""
    return f"<h3>{len(names)} tests {what}</h3><ul class='tests'>{listed}{more}</ul>"


def _code_list(clauses: Iterable[str]) -> str:
    return ", ".join(f"<code>{_e(c)}</code>" for c in clauses) or "none named"


def _failure(records: list[dict[str, Any]]) -> str:
    first = records[0]
    outcome, failed, codes, error, location = _failure_key(first)
    tests, clauses = _test_names(records, "failed so"), _code_list(failed)
    where = f"<p class='where'>at <code>{_e(location)}</code></p>" if location else ""
    lines = str(first.get("message") or "").strip("\n").splitlines()
    traceback = "\n".join(lines[:TRACEBACK_LINES]) + (
        f"\n… ({len(lines) - TRACEBACK_LINES} more lines in the test list)"
        if len(lines) > TRACEBACK_LINES else "")
    return (f"<article class='failure' data-outcome='{_e(outcome)}'>{tests}"
            f"<p><span class='{_e(outcome)}'>{_e(outcome)}</span> — clause(s): {clauses}</p>"
            + (f"<p class='parity'>{_e(parity_of(first))}</p>" if first.get("parity") else "")
            +
            f"<p class='codes'>aclError codes seen: {_e('; '.join(codes) or 'none')}</p>"
            f"<pre class='message'>{_e(error)}</pre>{where}"
            f"<p>Traceback, first lines:</p><pre class='traceback'>{_e(traceback)}</pre>"
            "</article>")


def _failures(records: list[dict[str, Any]]) -> str:
    groups = _grouped([r for r in records if r["outcome"] in FAILING], _failure_key)
    failing = sum(map(len, groups))
    shown = "".join(_failure(group) for group in groups[:GROUPS_SHOWN])
    more = (f"<p>… and {len(groups) - GROUPS_SHOWN} more kinds of failure: the test list "
            "below, outcome filter.</p>" if len(groups) > GROUPS_SHOWN else "")
    return (f"<section id='failures'><h2>Failures ({failing})</h2>"
            f"{shown or '<p>No test failed.</p>'}{more}</section>")


def _drift(records: list[dict[str, Any]]) -> str:
    drifting = [r for r in records if r["outcome"] == DRIFT]
    if not drifting:
        return ""
    groups = _grouped(drifting, lambda r: (tuple(drifted_clauses(r)), r.get("message")))
    items = "".join(
        f"<article class='drifted'>{_test_names(group, 'drifted so')}"
        f"<p>clause(s): {_code_list(drifted_clauses(group[0]))}</p>"
        f"<pre class='message'>{_e(group[0].get('message') or '')}</pre></article>"
        for group in groups[:GROUPS_SHOWN])
    return (f"<section id='drift'><h2>Behaviour drift ({len(drifting)})</h2><p>Observed-level "
            "codes that differ from the reference implementation's; they fail the run only "
            f"with --acl-strict-codes.</p>{items}</section>")


def _clauses(records: list[dict[str, Any]], clauses: dict[str, Clause]) -> str:
    """Every clause's status; in a parity run also its status through each binding, side by
    side (from that binding's tests alone)."""
    statuses = clause_statuses(records, clauses)
    order = sorted(statuses, key=lambda c: STATUSES.index(statuses[c].status))
    summary = Counter(s.status for s in statuses.values())
    each = {b: clause_statuses([r for r in records if r.get("binding") == b], clauses)
            for b in bindings(records)}
    body = []
    for clause_id in order:
        status, clause = statuses[clause_id], clauses.get(clause_id)
        tests = _e(", ".join(f"{n} {s}" for s, n in sorted(status.tests.items())) or "none")
        if status.status in (FAIL, BINDING_DEFECT, DRIFT):
            tests += f"; first: <span class='nodeid'>{_e(status.first[status.status])}</span>"
        sides = "".join(
            f"<td class='binding {_css(own.status)}' data-binding='{_e(b)}'>{_e(own.status)}"
            "</td>" for b, own in ((b, found.get(clause_id, ClauseStatus()))
                                   for b, found in each.items()))
        body.append(
            f"<tr data-clause='{_e(clause_id)}'><td><code>{_e(clause_id)}</code></td>"
            f"<td class='status {_css(status.status)}'>{_e(status.status)}</td>{sides}"
            f"<td>{_e(clause.level if clause else '?')}</td><td>{tests}</td>"
            f"<td>{_e(clause.text if clause else 'not in the clause catalog')}</td>"
            f"<td>{_sources(clause) if clause else ''}</td></tr>")
    side_cols = "<col style='width:7%'>" * len(each)
    side_heads = "".join(f"<th>through {_e(b)}</th>" for b in each)
    parity = (" A binding defect passes through one binding and fails through another."
              if each else "")
    return (f"<section id='clause-statuses'><h2>Clauses</h2><p>"
            f"{_e(', '.join(f'{summary[s]} {s}' for s in STATUSES if summary[s]))} — each "
            "from its own checks: a test's outcome counts for the clauses that decided it."
            f"{parity}</p><table id='clauses'><colgroup><col style='width:22%'>"
            f"<col style='width:8%'>{side_cols}"
            "<col style='width:7%'><col style='width:10%'><col><col style='width:22%'>"
            f"</colgroup><tr><th>clause</th><th>status</th>{side_heads}<th>level</th>"
            f"<th>its tests</th><th>text</th><th>source</th></tr>{''.join(body)}</table>"
            "</section>")


def _sources(clause: Clause) -> str:
    """Each source the clause cites: its title, linked when it has a public URL, and what of
    it (the sources table that ships with the catalog, pytest_acl.sources)."""
    return "<br>".join(
        (f"<a href=\"{_e(c.url)}\">{_e(c.title)}</a>" if c.url else _e(c.title))
        + (f" {_e(c.detail)}" if c.detail else "") for c in citations(clause))


def _matrix(records: list[dict[str, Any]]) -> str:
    table = rows(records)
    used = [c for c in COLUMNS if any(counts[c] for _, _, counts in table)]
    head = "".join(f"<th>{_e(c)}</th>" for c in used)
    body = "".join(
        f"<tr><td>{_e(f)}</td><td>{_e(v)}</td>"
        + "".join(f"<td class='{c}'>{counts[c] or ''}</td>" for c in used) + "</tr>"
        for f, v, counts in table)
    return (f"<h2>Conformance matrix</h2><table id='matrix'><tr><th>family</th><th>variant</th>"
            f"{head}</tr>{body}</table>")


def _timings(records: list[dict[str, Any]]) -> str:
    table = timings.per_variant(records)
    if not table:
        return "<section id='timings'><h2>Timings</h2><p>No test timed a load.</p></section>"
    body = "".join(
        f"<tr><td>{_e(variant)}</td><td>{count}</td>"
        + "".join(f"<td>{_e(timings.milliseconds(medians.get(p)))}</td>"
                  for p in timings.PHASES) + "</tr>"
        for variant, count, medians in table)
    return ("<section id='timings'><h2>Timings</h2><p>Median time per test spent loading "
            "(bundle init and load included), executing and unloading, by load variant.</p>"
            f"{timings.plot(table)}<table id='timings-table'><tr><th>variant</th><th>tests</th>"
            + "".join(f"<th>{p}</th>" for p in timings.PHASES) + f"</tr>{body}</table></section>")


def _tests(records: list[dict[str, Any]]) -> str:
    outcomes = sorted({r["outcome"] for r in records})
    families = sorted({family_of(r["nodeid"]) for r in records})
    body = []
    for r in records:
        codes = "; ".join(_codes(r))
        message = f"<pre>{_e(r['message'])}</pre>" if r.get("message") and \
            r["outcome"] != "pass" else ""
        body.append(f"<tr class='test' data-outcome='{_e(r['outcome'])}' "
                    f"data-family='{_e(family_of(r['nodeid']))}'>"
                    f"<td class='nodeid'>{_e(record_key(r))}</td>"
                    f"<td class='{_e(r['outcome'])}'>{_e(r['outcome'])}</td>"
                    f"<td>{_e(codes)}</td><td>{message}</td></tr>")
    return ("<h2>Tests</h2><p>Outcome <select id=\"outcome\"><option value=\"\">all</option>"
            + "".join(f"<option>{_e(o)}</option>" for o in outcomes)
            + "</select> API family <select id=\"family\"><option value=\"\">all</option>"
            + "".join(f"<option>{_e(f)}</option>" for f in families)
            + f"</select> — <span id=\"shown\">{len(records)}</span> shown</p>"
            "<table id='tests'><colgroup><col style='width:40%'><col style='width:8%'>"
            "<col style='width:20%'><col></colgroup><tr><th>test</th><th>outcome</th>"
            f"<th>codes seen</th><th>message</th></tr>{''.join(body)}</table>")


def _definitions(pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{_e(label)}</dt><dd>{_pre(value)}</dd>" for label, value in pairs)
    return f"<dl class='environment'>{items}</dl>"


def _pre(value: str) -> str:
    """A value of several lines (``npu-smi info``) keeps its lines."""
    return f"<pre>{_e(value)}</pre>" if "\n" in value else _e(value)


def _environment(header: dict[str, Any]) -> str:
    runs = environment.sources(header)
    parts = [_definitions(environment.fields(header))]
    if header.get("merged_from"):
        parts += [f"<h3>{_e(h.get('run_id'))} on {_e(h.get('host'))}</h3>"
                  + _definitions(environment.fields(h)) for h in runs]
    for run in runs:
        options = environment.options(run)
        if options:
            rows_ = "".join(f"<tr><td>{_e(n)}</td><td>{_e(v)}</td><td>{_e(s)}</td></tr>"
                            for n, v, s in options)
            parts.append(f"<h3>Options{' of ' + _e(run.get('run_id')) if run is not header else ''}"
                         f"</h3><table class='options'><tr><th>option</th><th>value</th>"
                         f"<th>from</th></tr>{rows_}</table>")
    return f"<section id='environment'><h2>Environment</h2>{''.join(parts)}</section>"


def render(header: dict[str, Any], records: list[dict[str, Any]],
           clauses: dict[str, Clause], verdict: RunVerdict) -> str:
    records = with_binding_defects(records)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pytest-acl {_e(verdict.verdict)} {_e(header.get('run_id', ''))}</title>
<style>{STYLE}</style><script>{SCRIPT}</script></head><body>
<h1>pytest-acl conformance report</h1>
{_banner(header, records, verdict)}
{_failures(records)}
{_drift(records)}
{_clauses(records, clauses)}
{_matrix(records)}
{_timings(records)}
{_tests(records)}
{_environment(header)}
</body></html>
"""
