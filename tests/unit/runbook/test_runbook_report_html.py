"""The HTML report is one self-contained file: verdict first, per-node tables, the
timeline, pod events; user text is escaped; nothing is fetched from anywhere. (The
real browser test is tests/sandbox/runbook/test_validate_article.py.)"""

from __future__ import annotations

import re

from runbook_sample import SANDBOX_ERROR, sample

from harness.report.html import render


def test_verdict_comes_first_and_names_the_failures() -> None:
    html = render(sample())
    body = html.split("<main>", 1)[1]
    first_section = body.index('id="verdict"')
    assert first_section < body.index('id="nodes"') < body.index('id="timeline"')
    assert "FAIL: CNI objects left, foreign objects destroyed" in html
    assert "exit code 24" in html and 'class="verdict fail"' in html


def test_clean_report_is_green() -> None:
    html = render(sample(clean=True))
    assert 'class="verdict pass"' in html and "PASS: clean, no collateral" in html


def test_named_objects_events_and_timeline_are_there() -> None:
    html = render(sample())
    assert "file /opt/cni/bin/flannel" in html
    assert "rule &#34;-A INPUT -p tcp --dport 22 -j ACCEPT&#34; (filter, nft)" in html
    assert "annotation flannel.alpha.coreos.com/backend-data on node/lab-worker" in html
    assert SANDBOX_ERROR.replace('"', "&#34;") in html
    assert 'id="step-1"' in html and 'id="step-3"' in html and "1.20 s" in html


def test_user_text_is_escaped() -> None:
    html = render(sample())
    assert "iptables -F &lt;b&gt;&amp;" in html and "<b>&" not in html
    assert "iptables: &lt;oops&gt;" in html


def test_nothing_external_is_referenced() -> None:
    html = render(sample())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "@import" not in html and "url(" not in html
