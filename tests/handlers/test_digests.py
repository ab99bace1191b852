"""Digests and alerts (issue #4): grouping, rendering within Block Kit limits, escaping."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.tracking.digest import ChangeView, Digest, build_digest, readable_date
from bot.domain.tracking.sources import MAX_DIFF_CHARS
from handlers.render.blocks import MAX_BLOCKS, MAX_MESSAGE_CHARS
from handlers.render.changes import item_line
from handlers.render.colours import VERDICT_COLOURS, card_blocks
from handlers.render.digests import MAX_DIFF_MESSAGES, render_alert, render_digest
from handlers.render.group_updates import replace_message_actions
from tests.support.block_kit import attachments_problem

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)


def check_message(payload: dict[str, Any]) -> None:
    """Assert a payload is inside Slack's limits; slack_sdk validates each block (as in
    tests/handlers/test_blocks.py)."""
    assert payload["text"].strip(), "a plain-text fallback is always present"
    assert len(payload["text"]) <= 4000
    assert attachments_problem(payload.get("attachments")) is None
    blocks = card_blocks(payload)
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()  # raises SlackObjectFormationError past a limit
    assert len(json.dumps(blocks)) <= MAX_MESSAGE_CHARS + 1000
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), "block ids are unique within a message"


def change(id: int, source: str = "BIS rules", *, minutes: int = 0, **kw: Any) -> ChangeView:
    return ChangeView(
        id=id,
        source=source,
        detected_at=SINCE + timedelta(minutes=minutes),
        summary=kw.pop("summary", f"summary of change {id}"),
        **kw,
    )


# ------------------------------------------------------------------ build_digest


def test_build_digest_groups_orders_and_dedups() -> None:
    changes = [
        change(1, "b-source", minutes=30),
        change(2, "A-source", minutes=20),
        change(3, "b-source", minutes=10),
        change(4, "c-source", minutes=50, severity="high"),
        change(2, "A-source", minutes=20),  # the same change twice
        change(5, "A-source", minutes=20),  # same time as 2: by id
        ChangeView(6, "A-source", datetime(2026, 11, 9, 8, 0), "naive = UTC, oldest"),
    ]
    d = build_digest(changes, since=SINCE, now=NOW)
    assert [s.source for s in d.sections] == ["c-source", "A-source", "b-source"]
    assert [[c.id for c in s.changes] for s in d.sections] == [[4], [6, 2, 5], [3, 1]]
    assert d.count == 6
    assert (d.since, d.until) == (SINCE, NOW)


def test_high_severity_sources_first_then_by_name() -> None:
    changes = [
        change(1, "Zeta"),
        change(2, "alpha"),
        change(3, "Mid", severity="high"),
        change(4, "Beta", severity="high"),
        change(5, "Beta"),
    ]
    d = build_digest(changes, since=None, now=NOW)
    assert [s.source for s in d.sections] == ["Beta", "Mid", "alpha", "Zeta"]


# ------------------------------------------------------------------ render_digest


def _texts(payload: dict[str, Any]) -> str:
    return json.dumps(payload["blocks"], ensure_ascii=False)


def test_one_change() -> None:
    c = change(
        7,
        "BIS rules",
        summary="1 new document: Entity List additions",
        link="https://www.federalregister.gov/d/2026-1",
        severity="high",
        reasons=("mentions 'Entity List'",),
        items=({"title": "Entity List additions", "date": "2026-11-09"},),
    )
    payloads = render_digest(build_digest([c], since=SINCE, now=NOW))
    assert len(payloads) == 1, "no diff, nothing for the thread"
    (p,) = payloads
    check_message(p)
    blocks = p["blocks"]
    assert blocks[0]["text"]["text"] == "Policy digest: 1 change since 2026-11-09 09:00 UTC"
    assert blocks[1]["text"]["text"] == "*BIS rules* (1)"
    assert blocks[2]["text"]["text"] == (
        "🔴 1 new document: Entity List additions · "
        "<https://www.federalregister.gov/d/2026-1|source>\n_High: mentions 'Entity List'_"
    )
    assert blocks[3]["text"]["text"] == "*New*\n• Entity List additions · published 9 Nov 2026"
    assert len(blocks) == 4
    assert p["text"] == "Policy digest: 1 change since 2026-11-09 09:00 UTC: BIS rules (1)"


def test_first_digest_says_so_far_and_empty_digest_posts_nothing() -> None:
    p = render_digest(build_digest([change(1)], since=None, now=NOW))[0]
    assert p["blocks"][0]["text"]["text"] == "Policy digest: 1 change so far"
    assert render_digest(build_digest([], since=SINCE, now=NOW)) == []
    assert render_digest(Digest(SINCE, NOW, [])) == []


def test_diff_goes_to_the_thread() -> None:
    c = change(
        3,
        "Vendor terms",
        summary="text changed: 1 lines added, 1 removed",
        diff="@@ -1 +1 @@\n-old <b>\n+new & improved",
    )
    parent, reply = render_digest(build_digest([c], since=SINCE, now=NOW))
    check_message(parent)
    check_message(reply)
    assert "old" not in _texts(parent)
    assert parent["blocks"][-1]["elements"][0]["text"] == "The diff is in the thread."
    assert reply["blocks"][0]["text"]["text"] == (
        "*Vendor terms* · diff of change #3: text changed: 1 lines added, 1 removed"
    )
    assert (
        reply["blocks"][1]["text"]["text"]
        == "```@@ -1 +1 @@\n-old &lt;b&gt;\n+new &amp; improved```"
    )


def test_country_list_change_offers_update_group_button() -> None:
    c = change(
        9, "Vendor regions", summary="added Ethiopia (ET)", added=("ET",), group="g-supported"
    )
    (p,) = render_digest(build_digest([c], since=SINCE, now=NOW))
    check_message(p)
    (actions,) = [b for b in p["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == "change_9"
    assert actions["elements"][0]["action_id"] == "update_group"
    assert actions["elements"][0]["value"] == "9"
    # without a linked group, or without countries, no button
    for other in (change(10, added=("ET",)), change(11, group="g")):
        (q,) = render_digest(build_digest([other], since=SINCE, now=NOW))
        assert all(b["type"] != "actions" for b in q["blocks"])


def _many(n: int = 1000, sources: int = 50) -> list[ChangeView]:
    out = []
    for i in range(n):
        source = f"Source {i % sources:02d} " + "n" * (i % sources % 7) * 20
        out.append(
            ChangeView(
                id=i + 1,
                source=source,
                detected_at=SINCE + timedelta(seconds=i),
                summary=f"CHG{i + 1:04d}END " + "w" * (i % 13) * 60,
                severity="high" if i % 9 == 0 else "normal",
                link=f"https://example.com/{i}",
                diff=f"@@ DIFF{i + 1:04d}END @@\n"
                + "\n".join(f"+line {j} <x>" for j in range(i % 40))
                if i % 3 == 0
                else "",
                reasons=("mentions 'Entity List'",) if i % 9 == 0 else (),
                items=tuple(
                    {"title": f"Document {j} " + "t" * 200, "date": "2026-11-09"}
                    for j in range(i % 8)
                ),
                flips=tuple(
                    f"Customer {j}: m in SG goes from allowed to denied on 2026-11-10"
                    for j in range(i % 15)
                ),
                added=("ET",) if i % 50 == 0 else (),
                group="g-ok" if i % 50 == 0 else None,
            )
        )
    return out


def test_a_thousand_changes_across_fifty_sources() -> None:
    changes = _many()
    d = build_digest(changes, since=SINCE, now=NOW)
    payloads = render_digest(d)
    for p in payloads:
        check_message(p)
    listing = [p for p in payloads if not p["text"].startswith("Policy digest diffs")]
    diffs = [p for p in payloads if p["text"].startswith("Policy digest diffs")]
    assert payloads[0] is listing[0] and len(listing) > 1 and diffs
    assert payloads == [*listing, *diffs], "continued changes first, then diffs"
    # every change is listed exactly once, in digest order, across parent + continuation
    order = [c.id for s in d.sections for c in s.changes]
    seen = [int(m) for p in listing for m in re.findall(r"CHG(\d{4})END", _texts(p))]
    assert seen == order
    # diffs are in the thread at most once each, never in the top-level message, and the
    # thread is capped (Slack posts about one message a second per channel)
    with_diff = {c.id for c in changes if c.diff}
    diff_ids = [int(m) for p in diffs for m in re.findall(r"DIFF(\d{4})END", _texts(p))]
    assert len(diff_ids) == len(set(diff_ids)) and set(diff_ids) < with_diff
    assert len(diffs) == MAX_DIFF_MESSAGES
    assert "DIFF" not in _texts(payloads[0]) and all("DIFF" not in _texts(p) for p in listing)
    # the top-level message says how much is in the thread
    in_parent = len(re.findall(r"CHG\d{4}END", _texts(payloads[0])))
    note = payloads[0]["blocks"][-1]["elements"][0]["text"]
    assert note == (
        f"{1000 - in_parent} more changes are in the thread. "
        f"Diffs of {len(diff_ids)} changes are in the thread; the other "
        f"{len(with_diff) - len(diff_ids)} are in `/clearance changes`."
    )
    # a message that starts inside a source opens with its heading, marked as continued
    for p in listing[1:]:
        first = p["blocks"][0]["text"]["text"]
        assert first.startswith("*Source "), first
    assert any(p["blocks"][0]["text"]["text"].endswith("(continued)") for p in listing[1:])


def test_one_huge_diff_is_split_across_sections_and_messages() -> None:
    diff = "\n".join(["+" + "<" * 199] * (MAX_DIFF_CHARS // 200))  # 4x longer once escaped
    long_line = "-" + "&" * (MAX_DIFF_CHARS - 1)  # one line, 5x longer once escaped
    payloads = render_digest(
        build_digest([change(1, diff=diff), change(2, diff=long_line)], since=SINCE, now=NOW)
    )
    for p in payloads:
        check_message(p)
    code = "".join(
        b["text"]["text"]
        for p in payloads[1:]
        for b in p["blocks"]
        if b["text"]["text"].startswith("```")
    )
    assert code.count("&lt;") == diff.count("<")
    assert code.count("&amp;") == long_line.count("&")
    assert "<" not in code.replace("&lt;", "")
    assert len(payloads) > 2, "more than one message of diffs"
    for p in payloads[1:]:
        for b in p["blocks"]:
            text = b["text"]["text"]
            if text.startswith("*BIS rules* · diff of change #"):
                continue
            assert text.startswith("```") and text.endswith("```"), "fences survive"
            assert not re.search(r"&[a-z]*(?:```)", text), "no entity is cut in half"


EVIL = ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|click>", "<!subteam^S1>"]


@pytest.mark.parametrize("evil", EVIL)
def test_source_text_cannot_ping_or_link(evil: str) -> None:
    c = ChangeView(
        id=1,
        source=f"Source {evil}",
        detected_at=SINCE,
        summary=f"{evil} new text",
        severity="high",
        link=f"https://x.example/|{evil}",
        diff=f"+{evil}",
        reasons=(f"mentions '{evil}'",),
        items=({"title": f"Doc {evil}", "date": evil},),
        flips=(f"{evil}: m in SG goes from allowed to denied on 2026-11-10",),
        added=("ET",),
        group="g",
    )
    payloads = [*render_digest(build_digest([c], since=SINCE, now=NOW)), render_alert(c)]
    for p in payloads:
        check_message(p)
        assert evil not in p["text"]
        for b in p["blocks"]:
            if b["type"] == "header":  # plain text: shown as typed, never a mention
                assert b["text"]["type"] == "plain_text"
                continue
            assert evil not in json.dumps(b, ensure_ascii=False)
    assert "&lt;" in json.dumps(payloads[0]["blocks"])
    assert "<https://x.example/" not in json.dumps(payloads), "a URL with | is not linked"


def test_long_escaped_summary_keeps_link_and_reasons_whole() -> None:
    url = "https://example.com/" + "p" * 800
    c = change(
        1,
        summary="<&>" * 2000,
        link=url,
        severity="high",
        reasons=tuple(f"mentions '<{i}>'" for i in range(200)),
    )
    for p in [render_digest(build_digest([c], since=SINCE, now=NOW))[0], render_alert(c)]:
        check_message(p)
        (main,) = [b["text"]["text"] for b in p["blocks"] if "&lt;&amp;&gt;" in json.dumps(b)]
        first, reasons = main.split("\n")
        assert first.endswith(f"… · <{url}|source>")
        assert not re.search(r"&[a-z]*…", main), "no entity cut in half"
        assert reasons.startswith("_High: mentions '&lt;0&gt;'") and reasons.endswith("…_")
        assert not re.search(r"&[a-z]*…", p["text"])


# ------------------------------------------------------------------ render_alert


def test_alert_within_limits_with_everything_long() -> None:
    c = ChangeView(
        id=42,
        source="S" * 400,
        detected_at=SINCE,
        summary="Σ " * 3000,
        severity="high",
        link="https://example.com/doc",
        diff="\n".join(f"+{'<' * 80}" for _ in range(70)),
        reasons=tuple("r" * 300 for _ in range(20)),
        items=tuple({"title": "T" * 2000, "date": "2026-11-09"} for _ in range(200)),
        flips=tuple("F" * 400 for _ in range(100)),
        added=("ET",),
        group="g-ok",
    )
    p = render_alert(c)
    check_message(p)
    assert p["blocks"][0]["text"]["text"].startswith("Policy alert: SSS")
    assert p["blocks"][-1]["elements"][0]["text"] == "Detected 2026-11-09 09:00 UTC · change #42"
    assert any(b.get("block_id") == "change_42" for b in p["blocks"]), "the button survives"


def test_alert_shows_a_diff_preview() -> None:
    diff = "\n".join(f"+{'<' * 80} line {i}" for i in range(70))
    p = render_alert(change(8, "Vendor terms", summary="text changed", diff=diff, severity="high"))
    check_message(p)
    assert [b["type"] for b in p["blocks"]] == ["header", "section", "section", "context"]
    preview = p["blocks"][2]["text"]["text"]
    assert preview.startswith("```+&lt;&lt;") and preview.endswith("```")
    assert "line 0" in preview and "line 69" not in preview, "a preview, not the whole diff"


def test_alert_for_a_short_change() -> None:
    c = change(
        5,
        "BIS rules",
        summary="1 new document: Entity List additions",
        severity="high",
        link="https://www.federalregister.gov/d/1",
        reasons=("mentions 'Entity List'",),
    )
    p = render_alert(c)
    check_message(p)
    assert [b["type"] for b in p["blocks"]] == ["header", "section", "context"]
    assert p["text"] == "Policy alert: BIS rules: 1 new document: Entity List additions"


def test_build_and_render_a_thousand_changes_runs() -> None:
    changes = _many()
    start = time.perf_counter()
    payloads = render_digest(build_digest(changes, since=SINCE, now=NOW))
    elapsed = time.perf_counter() - start
    assert payloads  # no timing assertion: it only has to run
    print(f"build+render of 1,000 changes: {elapsed:.3f}s, {len(payloads)} messages")


def test_federal_register_document_line_and_local_dates() -> None:
    """Issue #13 section 5: each document shows its own link, number, type, correction marker,
    effective date, comment deadline and abstract; dates are readable, in the channel's zone."""
    doc = {
        "id": "C1-2026-21012",
        "title": "Additions to the Entity List",
        "link": "https://www.federalregister.gov/documents/2026/09/29/C1-2026-21012/additions",
        "date": "2026-09-29",
        "summary": "BIS adds 12 entities <under> 744.11.",
        "type": "Rule",
        "effective": "2026-09-29",
        "comments_close": "2026-10-29",
        "correction": True,
    }
    line = item_line(doc, "Europe/Berlin")
    assert line.startswith("*Correction* · <https://www.federalregister.gov/documents/2026/09/29/")
    assert "|C1-2026-21012> · Additions to the Entity List · Rule" in line
    assert "published 29 Sep 2026 · effective 29 Sep 2026 · comments by 29 Oct 2026" in line
    assert line.endswith("\n> BIS adds 12 entities &lt;under&gt; 744.11.")
    rss = {
        "id": "x",
        "title": "Recent action",
        "link": "https://ofac.treasury.gov/recent-actions/1",
        "date": "Tue, 29 Sep 2026 14:00:00 +0000",
    }
    assert "published 29 Sep 2026 16:00 CEST" in item_line(rss, "Europe/Berlin")
    assert readable_date("Tue, 29 Sep 2026 00:00:00 -0000") == "29 Sep 2026"
    assert readable_date("not a date") == "not a date"
    d = build_digest([change(1, "BIS", summary="s")], since=SINCE, now=NOW, tz="America/New_York")
    assert render_digest(d)[0]["blocks"][0]["text"]["text"].endswith("since 9 Nov 2026 04:00 EST")


def test_an_alert_whose_usages_flip_has_the_colour_of_the_strictest_new_verdict() -> None:
    flips = (
        "Acme GmbH: gpt-4o in DE goes from allowed to license required on 2026-11-10",
        "Nimbus Pte Ltd: claude-sonnet-4-5 in SG goes from allowed to denied on 2026-11-10",
    )
    c = change(
        9, "List", summary="Revision 4", severity="high", flips=flips, group="g", added=("ET",)
    )
    p = render_alert(c)
    check_message(p)
    assert [b["type"] for b in p["blocks"]] == ["header"]
    assert p["attachments"][0]["color"] == VERDICT_COLOURS["denied"]
    # Applying the group update replaces its button inside the coloured attachment.
    assert any(b.get("block_id") == "change_9" for b in p["attachments"][0]["blocks"])
    line = {"type": "context", "elements": [{"type": "mrkdwn", "text": "Applied"}]}
    replaced = replace_message_actions(p, 9, line)
    assert replaced is not None and "change_9" not in json.dumps(replaced)
    assert replaced["attachments"][0]["color"] == VERDICT_COLOURS["denied"]
    assert replace_message_actions(replaced, 9, line) is None  # decided already


def test_an_alert_without_flips_shows_no_verdict_colour() -> None:
    p = render_alert(change(5, "BIS rules", summary="new", severity="high"))
    assert "attachments" not in p
