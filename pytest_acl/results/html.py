"""``report.html``: one self-contained page (no network, no external assets) for people.

It shows the verdict, the conformance matrix, every clause with its status, text and source,
the failures with their codes and messages, and the environment fingerprint. Rows can be
filtered by outcome and by API family — with the controls, or from the address
(``report.html#outcome=fail&family=bundles``), which is also how the browser test drives it.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Any

from pytest_acl.clauses import Clause
from pytest_acl.results.matrix import COLUMNS, family_of, rows
from pytest_acl.results.records import FAILING, record_key
from pytest_acl.results.verdict import RunVerdict

STYLE = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{margin-bottom:.2em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f2f2f2;text-align:left}.pass{color:#1a7f37}.fail,.error,.xpass{color:#cf222e}
.drift{color:#9a6700}.incomplete,.no-tests,.device_lost,.crash,.timeout{color:#cf222e}.verdict{font-size:1.4em;font-weight:bold}.hidden{display:none}
pre{white-space:pre-wrap;max-width:90em;font-size:12px;background:#f8f8f8;padding:4px}
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


def _e(value: object) -> str:
    return html.escape(str(value))


def _matrix(records: list[dict[str, Any]]) -> str:
    table = rows(records)
    used = [c for c in COLUMNS if any(counts[c] for _, _, counts in table)]
    head = "".join(f"<th>{_e(c)}</th>" for c in used)
    body = "".join(
        f"<tr><td>{_e(f)}</td><td>{_e(v)}</td>"
        + "".join(f"<td class='{c}'>{counts[c] or ''}</td>" for c in used) + "</tr>"
        for f, v, counts in table)
    return f"<table id='matrix'><tr><th>family</th><th>variant</th>{head}</tr>{body}</table>"


def _clauses(records: list[dict[str, Any]], clauses: dict[str, Clause]) -> str:
    status: dict[str, str] = {}
    for record in records:
        for clause in record.get("clauses", []):
            worst = status.get(clause, "pass")
            outcome = record["outcome"]
            if outcome in FAILING or (outcome == "drift" and worst not in FAILING):
                status[clause] = outcome
            else:
                status.setdefault(clause, worst)
    body = "".join(
        f"<tr><td>{_e(c.id)}</td><td class='{status.get(c.id, 'untested')}'>"
        f"{_e(status.get(c.id, 'not run'))}</td><td>{_e(c.level)}</td><td>{_e(c.text)}</td>"
        f"<td>{_e(c.source)}</td></tr>" for c in clauses.values())
    return ("<table id='clauses'><tr><th>clause</th><th>status</th><th>level</th><th>text</th>"
            f"<th>source</th></tr>{body}</table>")


def _tests(records: list[dict[str, Any]]) -> str:
    body = []
    for r in records:
        codes = ", ".join(f"{c['function']}→{c['code']} {c['name']}" for c in r.get("codes", []))
        message = f"<pre>{_e(r['message'])}</pre>" if r.get("message") and \
            r["outcome"] != "pass" else ""
        body.append(f"<tr class='test' data-outcome='{_e(r['outcome'])}' "
                    f"data-family='{_e(family_of(r['nodeid']))}'><td>{_e(record_key(r))}</td>"
                    f"<td class='{_e(r['outcome'])}'>{_e(r['outcome'])}</td>"
                    f"<td>{_e(codes)}</td><td>{message}</td></tr>")
    return ("<table id='tests'><tr><th>test</th><th>outcome</th><th>codes seen</th>"
            f"<th>message</th></tr>{''.join(body)}</table>")


def render(header: dict[str, Any], records: list[dict[str, Any]],
           clauses: dict[str, Clause], verdict: RunVerdict) -> str:
    outcomes = sorted({r["outcome"] for r in records})
    families = sorted({family_of(r["nodeid"]) for r in records})
    option = "".join
    environment = {k: v for k, v in header.items() if k not in ("type", "options")}
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>pytest-acl {_e(header.get('run_id', ''))}</title><style>{STYLE}</style>
<script>{SCRIPT}</script></head><body>
<h1>pytest-acl conformance report</h1>
<p class="verdict {_e(verdict.verdict.lower().replace(' ', '-'))}" id="verdict">{_e(
        verdict.verdict)}</p>
<p id="verdict-reasons">{_e('; '.join(verdict.reasons))}</p>
<p>{len(records)} tests — {_e(', '.join(f'{k}: {v}' for k, v in sorted(Counter(
        r['outcome'] for r in records).items())))} — backend {_e(header.get('backend'))},
level {_e(header.get('level'))}{' (not valid for qualification)'
        if header.get('level') == 'quick' else ''}</p>
<h2>Conformance matrix</h2>{_matrix(records)}
<h2>Clauses</h2>{_clauses(records, clauses)}
<h2>Tests</h2>
<p>Outcome <select id="outcome"><option value="">all</option>{option(
        f'<option>{_e(o)}</option>' for o in outcomes)}</select>
API family <select id="family"><option value="">all</option>{option(
        f'<option>{_e(f)}</option>' for f in families)}</select>
— <span id="shown">{len(records)}</span> shown</p>{_tests(records)}
<h2>Environment</h2><pre id="environment">{_e(json.dumps(environment, indent=2, default=str))}</pre>
<pre>{_e(json.dumps(header.get('options', {}), indent=2, default=str))}</pre>
</body></html>
"""
