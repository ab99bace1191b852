"""Policy sources (issue #4): extracting snapshots from each kind of body, and diffing them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.domain.names.places import PlaceCatalog, build_place_catalog
from bot.domain.tracking.snapshots import Item, Snapshot, SourceError, SourceSpec
from bot.domain.tracking.sources import MAX_DIFF_CHARS, MAX_DIFF_LINES, diff_snapshots, extract


@pytest.fixture(scope="module")
def places() -> PlaceCatalog:
    return build_place_catalog()


# ------------------------------------------------------------------ Federal Register


def fr_doc(
    number: str, title: str, *, abstract: str | None = "An abstract.", date: str = "2026-01-15"
) -> dict[str, Any]:
    """One result in the shape of `documents.json` (policy-sources.md section 2.3)."""
    return {
        "document_number": number,
        "title": title,
        "type": "Rule",
        "abstract": abstract,
        "html_url": f"https://www.federalregister.gov/documents/2026/01/15/{number}/x",
        "publication_date": date,
        "agencies": [
            {
                "raw_name": "DEPARTMENT OF COMMERCE",
                "name": "Commerce Department",
                "id": 54,
                "url": "https://www.federalregister.gov/agencies/commerce-department",
                "json_url": "https://www.federalregister.gov/api/v1/agencies/54",
                "parent_id": None,
                "slug": "commerce-department",
            },
            {"raw_name": "Industry and Security Bureau"},
        ],
    }


def fr_body(*docs: dict[str, Any]) -> bytes:
    envelope: dict[str, Any] = {
        "count": len(docs),
        "description": "Documents from Industry and Security Bureau and of type Rule",
    }
    if docs:  # the API leaves out paging and results for an empty search
        envelope |= {"total_pages": 1, "results": list(docs)}
    return json.dumps(envelope).encode()


REAL_DOC: dict[str, Any] = {  # document 2025-05887 as in the reference, trimmed as there
    "document_number": "2025-05887",
    "title": "2,4-Dichlorophenoxyacetic Acid From the People's Republic of China: Final "
    "Affirmative Countervailing Duty Determination",
    "type": "Notice",
    "abstract": "The U.S. Department of Commerce (Commerce) determines that countervailable "
    "subsidies are being provided to ...",
    "html_url": "https://www.federalregister.gov/documents/2025/04/07/2025-05887/"
    "24-dichlorophenoxyacetic-acid-from-the-peoples-republic-of-china-final-"
    "affirmative-countervailing",
    "publication_date": "2025-04-07",
    "agencies": [
        {
            "raw_name": "DEPARTMENT OF COMMERCE",
            "name": "Commerce Department",
            "id": 54,
            "url": "https://www.federalregister.gov/agencies/commerce-department",
            "json_url": "https://www.federalregister.gov/api/v1/agencies/54",
            "parent_id": None,
            "slug": "commerce-department",
        }
    ],
}
FR = SourceSpec("federal_register")


def test_federal_register_documents_become_items() -> None:
    snap = extract(
        FR, fr_body(REAL_DOC, fr_doc("2026-00123", "Entity List Additions", abstract=None))
    )
    assert snap.items[0] == Item(
        "2025-05887",
        REAL_DOC["title"],
        REAL_DOC["html_url"],
        "2025-04-07",
        REAL_DOC["abstract"],
        REAL_DOC["type"],
        REAL_DOC.get("effective_on") or "",
        REAL_DOC.get("comments_close_on") or "",
        False,
    )
    assert snap.items[1].id == "2026-00123" and snap.items[1].summary == ""
    assert snap.text.splitlines() == [
        f"2025-05887 {REAL_DOC['title']}",
        "2026-00123 Entity List Additions",
    ]


def test_federal_register_empty_search_has_no_results_key() -> None:
    snap = extract(FR, fr_body())
    assert snap.items == () and snap.text == ""


def test_federal_register_repeated_document_is_one_item() -> None:
    snap = extract(FR, fr_body(fr_doc("2026-1", "A"), fr_doc("2026-1", "A"), fr_doc("2026-2", "B")))
    assert [i.id for i in snap.items] == ["2026-1", "2026-2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'{"count": 1, "results": [', "not JSON"),
        (
            b'{"errors": {"conditions": "bad agency"}}',
            'the Federal Register API returned errors: {"conditions": "bad agency"}',
        ),
        (b'{"foo": 1}', "not a Federal Register documents response (no 'results' list)"),
        (b"[1, 2]", "not a Federal Register documents response"),
        (b'{"count": 1, "results": {"a": 1}}', "not a Federal Register documents response"),
    ],
)
def test_federal_register_errors(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=None) as info:
        extract(FR, body)
    assert message in str(info.value)


# ------------------------------------------------------------------ feeds

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>BIS news</title><link>https://www.bis.gov/</link>
<item><title>BIS adds entities to the Entity List</title>
<link>https://www.bis.gov/press/1</link><guid>bis-1</guid>
<pubDate>Mon, 12 Jan 2026 10:00:00 GMT</pubDate><description>Twelve entities.</description></item>
<item><title>No guid here</title><link>https://www.bis.gov/press/2</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Vendor policy</title>
<id>urn:feed</id><updated>2026-02-01T00:00:00Z</updated>
<entry><id>urn:entry:1</id><title>Supported countries updated</title>
<link href="https://vendor.example/policy/1"/><updated>2026-02-01T00:00:00Z</updated>
<summary>We now support Ethiopia.</summary></entry>
</feed>"""

FEED = SourceSpec("feed")


def test_rss_items() -> None:
    snap = extract(FEED, RSS)
    assert [(i.id, i.title, i.link) for i in snap.items] == [
        ("bis-1", "BIS adds entities to the Entity List", "https://www.bis.gov/press/1"),
        ("https://www.bis.gov/press/2", "No guid here", "https://www.bis.gov/press/2"),
    ]
    assert snap.items[0].date == "Mon, 12 Jan 2026 10:00:00 GMT"
    assert snap.items[0].summary == "Twelve entities."
    assert snap.text == "BIS adds entities to the Entity List\nNo guid here"


def test_atom_items() -> None:
    (item,) = extract(FEED, ATOM).items
    assert item == Item(
        "urn:entry:1",
        "Supported countries updated",
        "https://vendor.example/policy/1",
        "2026-02-01T00:00:00Z",
        "We now support Ethiopia.",
    )


def test_feed_with_no_entries_is_empty_not_an_error() -> None:
    empty = b'<rss version="2.0"><channel><title>x</title></channel></rss>'
    assert extract(FEED, empty).items == ()


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body><p>Our policy page</p></body></html>",
        b"just some text",
        b"",
        b'{"results": []}',
    ],
)
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(SourceError) as info:
        extract(FEED, body)
    assert str(info.value).startswith("not an RSS or Atom feed (")


# ------------------------------------------------------------------ web pages

PAGE = """<!doctype html><html><head><title>T</title><style>p {{color: red}}</style>
<script>var tracking = "Entity List";</script></head>
<body><header>Site header</header><nav><a href="/">Home</a> | <a href="/x">Menu</a></nav>
<main><h1>Supported regions</h1>
<p>Last updated: <time datetime="{stamp}">{stamp}</time></p>
<p>Access is available in the countries below, per <a href="/terms">our terms</a>.</p>
<ul class="regions"><li>Germany</li><li>Holy See</li><li>Singapore</li></ul>
<noscript>Enable JavaScript</noscript><!-- a comment --></main>
<aside>Related links</aside>
<footer>© 2026 Vendor</footer></body></html>"""


def page(stamp: str = "2026-01-01") -> bytes:
    return PAGE.format(stamp=stamp).encode()


def test_webpage_main_text_without_chrome_one_line_per_block() -> None:
    text = extract(SourceSpec("webpage"), page()).text
    assert text.splitlines() == [
        "Supported regions",
        "Last updated: 2026-01-01",
        "Access is available in the countries below, per our terms.",
        "Germany",
        "Holy See",
        "Singapore",
    ]
    for dropped in (
        "tracking",
        "color",
        "Site header",
        "Menu",
        "Related links",
        "2026 Vendor",
        "Enable JavaScript",
        "a comment",
    ):
        assert dropped not in text


def test_webpage_keeps_inline_markup_in_its_line() -> None:
    body = b"<body><p>Available in <b>Germany</b> and <a href='#'>France</a> today</p></body>"
    assert extract(SourceSpec("webpage"), body).text == "Available in Germany and France today"


def test_webpage_table_rows_are_lines_with_cells_joined() -> None:
    body = (
        b"<body><table><tr><th>Country</th><th>Supported</th></tr>"
        b"<tr><td>Germany</td><td>Yes</td></tr><tr><td>Norway</td><td>No</td></tr>"
        b"</table></body>"
    )
    assert extract(SourceSpec("webpage"), body).text.splitlines() == [
        "Country | Supported",
        "Germany | Yes",
        "Norway | No",
    ]


def test_webpage_without_main_uses_article_then_body() -> None:
    body = b"<body><div>Outside</div><article><p>Inside</p></article></body>"
    assert extract(SourceSpec("webpage"), body).text == "Inside"
    assert extract(SourceSpec("webpage"), b"<p>One</p><p>Two</p>").text == "One\nTwo"


@pytest.mark.parametrize(
    ("selector", "lines"),
    [
        ("ul.regions li", ["Germany", "Holy See", "Singapore"]),
        ("main h1", ["Supported regions"]),
        ("nav", ["Home | Menu"]),  # a selector may pick chrome on purpose
    ],
)
def test_webpage_css_selector(selector: str, lines: list[str]) -> None:
    assert extract(SourceSpec("webpage", selector=selector), page()).text.splitlines() == lines


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("#countries", "the CSS selector '#countries' matches nothing on the page"),
        ("script", "the CSS selector 'script' matches nothing on the page"),
        ("ul[", "the CSS selector 'ul[' is not valid"),
    ],
)
def test_webpage_selector_errors(selector: str, message: str) -> None:
    with pytest.raises(SourceError) as info:
        extract(SourceSpec("webpage", selector=selector), page())
    assert message in str(info.value)


def test_ignore_patterns_make_a_timestamp_only_change_no_change(places: PlaceCatalog) -> None:
    spec = SourceSpec("webpage", ignore=(r"^last updated:",))
    before, after = extract(spec, page("2026-01-01")), extract(spec, page("2026-03-05"))
    assert "Last updated" not in after.text and "Germany" in after.text
    assert before.hash == after.hash
    assert diff_snapshots(spec, before, after, places) is None
    plain = SourceSpec("webpage")
    change = diff_snapshots(
        plain, extract(plain, page("2026-01-01")), extract(plain, page("2026-03-05")), places
    )
    assert change is not None
    assert "-Last updated: 2026-01-01" in change.diff and "+Last updated: 2026-03-05" in change.diff


def test_ignore_pattern_added_later_hides_the_line_in_the_stored_snapshot_too(
    places: PlaceCatalog,
) -> None:
    stored = extract(SourceSpec("webpage"), page("2026-01-01"))  # before the pattern existed
    spec = SourceSpec("webpage", ignore=("Last updated",))
    assert diff_snapshots(spec, stored, extract(spec, page("2026-03-05")), places) is None


def test_invalid_ignore_pattern_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"the ignore pattern '\(' is not a valid regular"):
        extract(SourceSpec("webpage", ignore=("(",)), page())


# ------------------------------------------------------------------ JSON

DOC = {
    "data": {
        "updated": "2026-01-01",
        "countries": [
            {"code": "DE", "name": "Germany", "tags": ["eu"]},
            {"code": "SG", "name": "Singapore", "tags": []},
        ],
        "empty": [],
        "count": 2,
        "ok": True,
    }
}


@pytest.mark.parametrize(
    ("selector", "lines"),
    [
        ("data.countries[*].name", ["Germany", "Singapore"]),
        ("data.countries[1].code", ["SG"]),
        ("data.countries[*].tags", ["eu"]),  # selected lists are flattened
        ("data.countries[0].tags", ["eu"]),  # a selected list gives one line per element
        ("data.count", ["2"]),
        ("data.ok", ["true"]),
        ("data.empty[*]", []),
        ("data.countries[0]", ['{"code": "DE", "name": "Germany", "tags": ["eu"]}']),
        # JMESPath beyond dotted paths: filters, flattening, functions, multi-selects.
        ("data.countries[?code=='SG'].name", ["Singapore"]),
        ("data.countries[?code=='FR'].name", []),  # a filter that keeps nothing is empty
        ("data.countries[].tags[]", ["eu"]),
        ("length(data.countries)", ["2"]),
        ("data.countries[*].[code, name]", ["DE", "Germany", "SG", "Singapore"]),
    ],
)
def test_json_selectors(selector: str, lines: list[str]) -> None:
    body = json.dumps(DOC).encode()
    assert extract(SourceSpec("json", selector=selector), body).text.splitlines() == lines


def test_json_top_level_list_and_no_selector() -> None:
    body = json.dumps([{"name": "Germany"}, {"name": "France"}]).encode()
    assert extract(SourceSpec("json", selector="[*].name"), body).text == "Germany\nFrance"
    assert extract(SourceSpec("json"), b'["a", "b"]').text == "a\nb"


@pytest.mark.parametrize(
    ("selector", "body", "message"),
    [
        (
            "data.regions[*].name",
            json.dumps(DOC).encode(),
            "'data.regions[*].name' matches nothing",
        ),
        (
            "data.countries[*].label",
            json.dumps(DOC).encode(),
            "matches nothing in any of the 2 elements it goes through",
        ),
        ("data.countries[5]", json.dumps(DOC).encode(), "matches nothing"),
        ("data.updated[*]", json.dumps(DOC).encode(), "matches nothing"),
        ("data.countries[x]", json.dumps(DOC).encode(), "is not a valid JMESPath expression"),
        ("length(data.count)", json.dumps(DOC).encode(), "failed: "),
        ("data", b"{not json", "not JSON"),
    ],
)
def test_json_errors(selector: str, body: bytes, message: str) -> None:
    with pytest.raises(SourceError) as info:
        extract(SourceSpec("json", selector=selector), body)
    assert message in str(info.value)


def test_unknown_kind() -> None:
    with pytest.raises(
        SourceError, match=r"Unknown source kind 'pdf'\. Use one of: federal_register"
    ):
        extract(SourceSpec("pdf"), b"")
    with pytest.raises(SourceError, match="a rule_table source is not read as a snapshot"):
        extract(SourceSpec("rule_table"), b"")


# ------------------------------------------------------------------ diffs


def _items(*ids: str) -> Snapshot:
    items = tuple(Item(i, f"Title {i}", f"https://x/{i}") for i in ids)
    return Snapshot("\n".join(f"{i.id} {i.title}" for i in items), items)


@pytest.mark.parametrize(
    ("kind", "before", "after", "new", "summary"),
    [
        ("federal_register", ["a", "b"], ["c", "a"], ["c"], "1 new document: Title c"),
        ("federal_register", ["a", "b", "c"], ["a", "b"], None, None),  # c dropped off: no change
        ("federal_register", ["a"], ["a"], None, None),
        ("federal_register", [], ["a", "b"], ["a", "b"], "2 new documents: Title a; Title b"),
        (
            "feed",
            ["a"],
            ["e", "d", "c", "b", "a"],
            ["e", "d", "c", "b"],
            "4 new entries: Title e; Title d; Title c; …",
        ),
        ("feed", ["a", "b"], ["c"], ["c"], "1 new entry: Title c"),
    ],
)
def test_list_sources_report_new_items_only(
    kind: str,
    before: list[str],
    after: list[str],
    new: list[str] | None,
    summary: str | None,
    places: PlaceCatalog,
) -> None:
    change = diff_snapshots(SourceSpec(kind), _items(*before), _items(*after), places)
    if new is None:
        assert change is None
        return
    assert change is not None
    assert [i.id for i in change.items] == new
    assert change.summary == summary
    assert all(f"Title {i}" in change.text for i in new)


def test_retitled_document_is_not_a_change(places: PlaceCatalog) -> None:
    before = Snapshot("a Old", (Item("a", "Old"),))
    after = Snapshot("a New", (Item("a", "New"),))
    assert diff_snapshots(FR, before, after, places) is None


def test_text_diff_and_its_new_material(places: PlaceCatalog) -> None:
    spec = SourceSpec("webpage")
    change = diff_snapshots(
        spec, Snapshot("intro\nold rule\nend"), Snapshot("intro\nnew rule\nmore\nend"), places
    )
    assert change is not None
    assert change.summary == "text changed: 2 lines added, 1 removed"
    assert change.diff.splitlines() == [
        "@@ -1,3 +1,4 @@",
        " intro",
        "-old rule",
        "+new rule",
        "+more",
        " end",
    ]
    assert change.text.splitlines() == ["new rule", "more", "old rule"]
    assert change.added == [] and change.removed == []


def test_huge_text_change_is_bounded(places: PlaceCatalog) -> None:
    before = Snapshot("\n".join(f"old line {i}" for i in range(20_000)))
    after = Snapshot("\n".join(f"new line {i}" for i in range(20_000)))
    change = diff_snapshots(SourceSpec("webpage"), before, after, places)
    assert change is not None
    lines = change.diff.splitlines()
    assert len(lines) == MAX_DIFF_LINES + 1
    assert lines[-1] == f"… {40_001 - MAX_DIFF_LINES} more diff lines"
    assert len(change.diff) <= MAX_DIFF_CHARS
    assert change.summary == "text changed: 20000 lines added, 20000 removed"


def test_one_enormous_line_is_bounded_by_characters(places: PlaceCatalog) -> None:
    change = diff_snapshots(
        SourceSpec("json"), Snapshot("x" * 50_000), Snapshot("y" * 50_000), places
    )
    assert change is not None
    assert len(change.diff) <= MAX_DIFF_CHARS and change.diff.endswith("\n…")


def test_identical_snapshots_give_none(places: PlaceCatalog) -> None:
    for spec in (
        SourceSpec("webpage"),
        SourceSpec("json", country_list=True),
        FR,
        SourceSpec("feed"),
    ):
        snap = (
            _items("a", "b")
            if spec.kind in ("feed", "federal_register")
            else Snapshot("Germany\nFrance")
        )
        copy = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
        assert copy.hash == snap.hash
        assert diff_snapshots(spec, snap, copy, places) is None


REGIONS = (
    "<html><body><main><h2>Supported countries and regions</h2><ul>{}</ul>"
    "<p>Last updated {}</p></main></body></html>"
)


def regions(*names: str, stamp: str = "2026-01-01") -> bytes:
    return REGIONS.format("".join(f"<li>{n}</li>" for n in names), stamp).encode()


def test_country_list_reports_added_and_removed(places: PlaceCatalog) -> None:
    spec = SourceSpec("webpage", ignore=("^Last updated",), country_list=True)
    before = extract(spec, regions("Germany", "Holy See", "Singapore", "Côte d'Ivoire"))
    after = extract(
        spec, regions("Germany", "Singapore", "Ethiopia", "Côte d'Ivoire", stamp="2026-02-02")
    )
    change = diff_snapshots(spec, before, after, places)
    assert change is not None
    assert change.added == ["ET"] and change.removed == ["VA"]
    assert change.summary == "added Ethiopia (ET); removed Holy See (Vatican City State) (VA)"
    assert "+Ethiopia" in change.diff and "-Holy See" in change.diff


@pytest.mark.parametrize(
    ("before", "after", "added", "removed"),
    [
        # several per line, separators, footnote marks, parentheticals and codes
        ("Germany, France; Japan", "Germany • France; Japan; Kenya", ["KE"], []),
        # a table row is read by its first cell
        ("Germany | Yes", "Germany | Yes\nFrance | Yes", ["FR"], []),
        ("Germany*\nFrance", "Germany\nHoly See (Vatican City)", ["VA"], ["FR"]),
        ("DE\nSG", "DE\nSG\nAE", ["AE"], []),
        # table cells "No"/"Yes" and short words are not Norway or India
        (
            "Country | Supported\nGermany | Yes",
            "Country | Supported\nGermany | No\nin | on",
            [],
            [],
        ),
        # ambiguous names resolve to nothing rather than a guess
        ("Germany", "Germany\nCongo\nKorea", [], []),
    ],
)
def test_country_list_parsing(
    before: str, after: str, added: list[str], removed: list[str], places: PlaceCatalog
) -> None:
    change = diff_snapshots(
        SourceSpec("webpage", country_list=True), Snapshot(before), Snapshot(after), places
    )
    assert change is not None
    assert (change.added, change.removed) == (added, removed)
    if not added and not removed:
        assert not change.summary.startswith(("added", "removed"))


def test_json_country_list_by_code(places: PlaceCatalog) -> None:
    spec = SourceSpec("json", selector="regions[*].code", country_list=True)
    before = extract(spec, b'{"regions": [{"code": "DE"}, {"code": "VA"}]}')
    after = extract(spec, b'{"regions": [{"code": "DE"}, {"code": "ET"}]}')
    change = diff_snapshots(spec, before, after, places)
    assert change is not None and (change.added, change.removed) == (["ET"], ["VA"])


def test_text_change_without_country_change_keeps_text_summary(places: PlaceCatalog) -> None:
    spec = SourceSpec("webpage", country_list=True)
    change = diff_snapshots(
        spec, Snapshot("Intro\nGermany"), Snapshot("New intro\nGermany"), places
    )
    assert change is not None
    assert change.summary == "text changed: 1 lines added, 1 removed; no place changed"
    assert change.to_dict()["added"] == [] and change.to_dict()["removed"] == []


def test_federal_register_corrections_dates_and_type() -> None:
    """Issue #13 section 5: the fields a compliance officer needs are kept on each document."""
    doc = {
        **fr_doc("C1-2026-21012", "Additions to the Entity List; Correction"),
        "effective_on": "2026-09-29",
        "comments_close_on": "2026-10-29",
        "correction_of": "https://www.federalregister.gov/api/v1/documents/2026-21012",
    }
    (item,) = extract(FR, fr_body(doc)).items
    assert (item.type, item.effective, item.comments_close, item.correction) == (
        "Rule",
        "2026-09-29",
        "2026-10-29",
        True,
    )
    assert item.link.startswith("https://www.federalregister.gov/documents/")
    assert Item.from_dict(item.to_dict()) == item


OFAC = """<html><body><header><nav><a href="/">OFAC</a></nav></header><main>
<h1>Recent Actions</h1>
<form><label>Search</label></form>
<div class="view-content">{rows}</div>
<nav class="pager"><a href="?page=1">Next page</a></nav></main></body></html>"""
ROW = '<div class="views-row"><span>{date}</span> - <a href="/recent-actions/{slug}">{title}</a></div>'
ACTIONS = [
    ("09/26/2026", "20260926", "Russia-related Designations; Counter Terrorism Designation Update"),
    ("09/24/2026", "20260924", "Publication of Iran-related Frequently Asked Question"),
]
NEW = [
    (
        "09/29/2026",
        "20260929_33",
        "Counter Terrorism Designations; Iran-related Designations Removals",
    ),
    ("09/29/2026", "20260929", "Issuance of Russia-related General License"),
]


def ofac(actions: list[tuple[str, str, str]]) -> bytes:
    rows = "".join(ROW.format(date=d, slug=s, title=t) for d, s, t in actions)
    return OFAC.format(rows=rows).encode()


def test_ofac_recent_actions_names_new_actions_with_their_pages(places: PlaceCatalog) -> None:
    spec = SourceSpec("webpage", url="https://ofac.treasury.gov/recent-actions")
    before = extract(spec, ofac(ACTIONS))
    after = extract(spec, ofac(NEW + ACTIONS))
    change = diff_snapshots(spec, before, after, places)
    assert change is not None
    assert change.summary == (
        "2 new: 09/29/2026 - Counter Terrorism Designations; Iran-related Designations Removals; "
        "09/29/2026 - Issuance of Russia-related General License"
    )
    assert [i.link for i in change.items] == [
        "https://ofac.treasury.gov/recent-actions/20260929_33",
        "https://ofac.treasury.gov/recent-actions/20260929",
    ]


def test_whole_diff_is_kept_when_the_shown_one_is_cut(places: PlaceCatalog) -> None:
    spec = SourceSpec("webpage")
    before = Snapshot("\n".join(f"line {i}" for i in range(400)))
    after = Snapshot("\n".join(f"line {i} changed" for i in range(400)))
    change = diff_snapshots(spec, before, after, places)
    assert change is not None and "more diff lines" in change.diff
    assert change.full_diff.count("\n") > 790 and "+line 399 changed" in change.full_diff
