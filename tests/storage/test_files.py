"""Rule-table files without a database: every kind of bad input is reported as FILE:LINE errors.

Each bad file is checked the way `clearance rules import` checks it (parse, merge with the default
pack, check the merged table) and must yield exactly the listed errors, each on its own line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from bot.domain.errors import FileError, InvalidFile
from bot.domain.names.places import build_place_catalog
from bot.domain.rules.csv_import import CSV_FIELDS, parse_csv
from bot.domain.rules.csv_rules import rules_to_csv
from bot.domain.rules.files import parse_text, read_file
from bot.domain.rules.merging import check_merged, merge
from bot.domain.rules.table import KINDS, RuleTable
from storage.rules import DEFAULT_PACK

Expected = tuple[int, str, str]  # line, field, a phrase of the message


def doc(text: str) -> str:
    """Return a file body whose first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture(scope="module")
def pack() -> RuleTable:
    """The default pack as the current table (what a fresh database holds)."""
    parsed = read_file(DEFAULT_PACK)
    table = merge(RuleTable(), parsed, replace=True)
    check_merged(table, parsed, build_place_catalog())
    return table


def errors_of(
    text: str, current: RuleTable, *, replace: bool = False, allowed: tuple[str, ...] = KINDS
) -> list[FileError]:
    """Check a file the way an import does and return its errors (empty when it is good)."""
    try:
        parsed = parse_text(text, "bad.yaml", allowed=allowed, defer=True)
        check_merged(merge(current, parsed, replace=replace), parsed, build_place_catalog())
    except InvalidFile as exc:
        return exc.errors
    return []


PROVENANCE_PHRASES = ("rule needs a citation", "rule needs the http(s) URL", "has no conditions")


def other_than_provenance(errors: list[FileError]) -> list[FileError]:
    """Leave out what a rule lacks of citation, URL or `everywhere`, tested on its own below.

    The files here show other errors with rules cut to the fields those errors are about.
    """
    return [e for e in errors if not any(p in e.message for p in PROVENANCE_PHRASES)]


def assert_errors(errors: list[FileError], expected: list[Expected]) -> None:
    errors = other_than_provenance(errors)
    got = [(e.line, e.field, e.message) for e in errors]
    assert len(got) == len(expected), "\n".join(str(e) for e in errors)
    for (line, field, message), (want_line, want_field, phrase) in zip(got, expected, strict=True):
        assert (line, field) == (want_line, want_field), "\n".join(str(e) for e in errors)
        assert phrase in message, message
    for e in errors:
        assert str(e) == f"bad.yaml:{e.line}: {e.field}: {e.message}"


LICENSED = """
    version: 1
    customers:
      - {id: acme, name: Acme, hq: DE}
    rules:
      - {id: needs-license, effect: license_required, title: T, places: {in: [BR]}}
"""


def licensed(text: str) -> str:
    """Return a file with a customer and a license_required rule (lines 1-5), then `text`."""
    return doc(LICENSED) + doc(text)


BAD_FILES: list[tuple[str, str, list[Expected]]] = [
    (
        "yaml syntax error",
        """
        version: 1
        rules:
          - id: a
            title: "unclosed
            effect: deny
        """,
        [(6, "yaml", "syntax error")],
    ),
    (
        "yaml tab indentation",
        "version: 1\nrules:\n\t- id: a\n",
        [(3, "yaml", "check the indentation")],
    ),
    (
        "unknown key (typo) is rejected, not ignored",
        """
        version: 1
        rules:
          - id: a
            efect: deny
            title: T
        """,
        [
            (3, "rules[a].effect", "required field 'effect' is missing"),
            (4, "rules[a].efect", "unknown key 'efect' (did you mean 'effect'?)"),
        ],
    ),
    (
        "unknown nested key",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            places:
              in: [DE]
              nott_in: [FR]
        """,
        [(8, "rules[a].places.nott_in", "did you mean 'not_in'?); allowed here: in, not_in")],
    ),
    (
        "unknown effect",
        """
        version: 1
        rules:
          - id: a
            effect: block
            title: T
        """,
        [
            (
                4,
                "rules[a].effect",
                "unknown effect 'block'; use allow, review, license_required or deny",
            )
        ],
    ),
    (
        "unknown place, named as a country",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            places:
              in:
                - DE
                - Germany
        """,
        [(9, "rules[a].places.in[1]", "unknown place 'Germany' (did you mean DE?)")],
    ),
    (
        "unknown place code",
        """
        version: 1
        groups:
          - id: g
            name: G
            members: [DE,
                      XX]
        """,
        [(6, "groups[g].members[1]", "unknown place 'XX'; use an ISO 3166-1 alpha-2")],
    ),
    (
        "unknown group",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            places: {in: [group:g-euu]}
        """,
        [
            (
                6,
                "rules[a].places.in[0]",
                "unknown group 'g-euu' (did you mean 'g-eu'?); define it under groups:",
            )
        ],
    ),
    (
        "unknown model",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            models:
              ids: [gpt-4o, GPT-5]
        """,
        [(7, "rules[a].models.ids[1]", "'GPT-5' is a name of model 'gpt-5'; use the id")],
    ),
    (
        "unknown vendor of a model",
        """
        version: 1
        models:
          - id: m
            name: M
            vendor: anthropik
            family: m
        """,
        [
            (
                5,
                "models[m].vendor",
                "unknown vendor 'anthropik' (did you mean 'anthropic'?); add it under vendors:",
            )
        ],
    ),
    (
        "a schema error hides none of the entry's other errors",
        """
        version: 1
        rules:
          - {id: a, effect: deny, models: {ids: [acme-9]}}
          - {id: b, effect: blok, title: T, models: {ids: [acme-9]}, places: {in: [XX]}}
          - {id: c, effect: deny, title: [x], places: {in: [XX]}}
          - {id: d, effect: deny, title: T, effective_from: 2025-02-30, models: {ids: [acme-9]}}
          - {id: e, effect: deny, title: T, places: {in: DE}, models: {ids: [acme-9]}}
        customers:
          - {id: c1, hq: XX}
        licenses:
          - {id: L1, customer: c1, rules: [b]}
        """,
        [
            (3, "rules[a].title", "required field 'title' is missing"),
            (3, "rules[a].models.ids[0]", "unknown model 'acme-9'"),
            (4, "rules[b].effect", "unknown effect 'blok'"),
            (4, "rules[b].models.ids[0]", "unknown model 'acme-9'"),
            (4, "rules[b].places.in[0]", "unknown place 'XX'"),
            (5, "rules[c].title", "must be text"),
            (5, "rules[c].places.in[0]", "unknown place 'XX'"),
            (6, "rules[d].effective_from", "not a real date"),
            (6, "rules[d].models.ids[0]", "unknown model 'acme-9'"),
            (7, "rules[e].places.in", "must be a list"),
            (7, "rules[e].models.ids[0]", "unknown model 'acme-9'"),
            # b's effect is unknown, so whether L1 may name it is not judged
            (9, "customers[c1].name", "required field 'name' is missing"),
            (9, "customers[c1].hq", "unknown place 'XX'"),
        ],
    ),
    (
        "a model alias that names another model",
        """
        version: 1
        models:
          - {id: m1, name: M1, vendor: openai, family: m, aliases: [GPT 4o]}
          - {id: m2, name: M2, vendor: openai, family: m, aliases: [Shared]}
          - {id: m3, name: M3, vendor: openai, family: m, api_ids: [shared]}
        """,
        [
            (3, "models[m1].aliases[0]", "'GPT 4o' also names model 'gpt-4o'"),
            (4, "models[m2].aliases[0]", "'Shared' also names model 'm3'"),
            (5, "models[m3].api_ids[0]", "'shared' also names model 'm2'"),
        ],
    ),
    (
        "unknown vendor in a rule",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            models: {vendors: [nobody]}
        """,
        [(6, "rules[a].models.vendors[0]", "unknown vendor 'nobody'")],
    ),
    (
        "unknown customer type",
        """
        version: 1
        customers:
          - id: ivanov
            name: Sergei Ivanov
            type: persn
            hq: RU
        """,
        [
            (
                5,
                "customers[ivanov].type",
                "unknown type 'persn' (did you mean 'person'?); use org or person",
            )
        ],
    ),
    (
        "bad list-membership conditions",
        """
        version: 1
        rules:
          - id: l1
            effect: review
            title: T
            listed: {lists: [el, SDNN, Narnia]}
          - id: l2
            effect: review
            title: T
            listed: {lists: [SDN], party: owner}
          - id: l3
            effect: allow
            title: T
            listed: {lists: [SDN]}
            citation: c
            url: https://example.org/c
          - id: l4
            effect: review
            title: T
            listed: {lists: []}
        """,
        [
            (6, "rules[l1].listed.lists[0]", "unknown list 'el' (did you mean 'EL'?)"),
            (6, "rules[l1].listed.lists[1]", "unknown list 'SDNN' (did you mean 'SDN'?)"),
            (6, "rules[l1].listed.lists[2]", "unknown list 'Narnia'; use SDN, FSE, EL"),
            (10, "rules[l2].listed.party", "unknown party 'owner' (did you mean 'owners'?)"),
            (12, "rules[l3].effect", "a rule on list membership cannot allow"),
            (20, "rules[l4].listed.lists", "must not be empty"),
        ],
    ),
    (
        "unknown customer in a license",
        licensed("""
        licenses:
          - id: lic
            customer: acne
            rules: [needs-license]
        """),
        [(8, "licenses[lic].customer", "unknown customer 'acne' (did you mean 'acme'?)")],
    ),
    (
        "unknown owner",
        """
        version: 1
        customers:
          - id: sub
            name: Sub
            hq: DE
            owners:
              - {owner: parent, share: 60}
        """,
        [
            (
                7,
                "customers[sub].owners[0].owner",
                "unknown customer 'parent'; owners must be customers too",
            )
        ],
    ),
    (
        "unknown model a customer uses",
        """
        version: 1
        customers:
          - id: c
            name: C
            hq: DE
            uses:
              - {model: gpt-4o, country: DE}
              - {model: gtp-4o, country: FR}
        """,
        [(8, "customers[c].uses[1].model", "unknown model 'gtp-4o'")],
    ),
    (
        "customer hq is a group",
        """
        version: 1
        customers:
          - {id: c, name: C, hq: "group:g-eu"}
        """,
        [(3, "customers[c].hq", "is a group, but this must be one place")],
    ),
    (
        "duplicate id",
        """
        version: 1
        rules:
          - {id: a, effect: deny, title: T, places: {in: [CU]}}
          - {id: b, effect: deny, title: T, places: {in: [CU]}}
          - {id: a, effect: allow, title: T, places: {in: [DE]}}
        """,
        [(5, "rules[a].id", "duplicate id 'a' (first used on line 3)")],
    ),
    (
        "duplicate yaml key",
        """
        version: 1
        rules:
          - id: a
            effect: allow
            title: T
            effect: deny
        """,
        [(6, "rules[a].effect", "duplicate key 'effect' (also on line 4)")],
    ),
    (
        "duplicate section",
        """
        version: 1
        rules: []
        rules: []
        """,
        [(3, "rules", "duplicate key 'rules' (also on line 2)")],
    ),
    (
        "bad date",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            effective_from: 2025-13-01
        """,
        [(6, "rules[a].effective_from", "'2025-13-01' is not a real date")],
    ),
    (
        "a number is not a date",
        """
        version: 1
        models:
          - {id: m, name: M, vendor: openai, family: m, released: 20250101}
        """,
        [(3, "models[m].released", "write it as YYYY-MM-DD")],
    ),
    (
        "effective_to before effective_from",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            effective_from: 2025-02-01
            effective_to: 2025-01-31
        """,
        [
            (
                7,
                "rules[a].effective_to",
                "2025-01-31 is before effective_from 2025-02-01, so the rule is never in force",
            )
        ],
    ),
    (
        "group effective_to before effective_from",
        """
        version: 1
        groups:
          - id: g
            name: G
            members: [DE]
            effective_from: 2025-02-01
            effective_to: 2025-01-31
        """,
        [(7, "groups[g].effective_to", "the group is never in force")],
    ),
    (
        "license valid_to before valid_from",
        licensed("""
        licenses:
          - id: lic
            customer: acme
            rules: [needs-license]
            valid_from: 2025-06-01
            valid_to: 2025-05-31
        """),
        [(11, "licenses[lic].valid_to", "the license is never valid; swap the dates")],
    ),
    (
        "share over 100",
        """
        version: 1
        customers:
          - {id: p, name: P, hq: CN}
          - id: c
            name: C
            hq: DE
            owners:
              - {owner: p, share: 150}
        """,
        [
            (7, "customers[c].owners", "add up to 150%, over 100%"),
            (8, "customers[c].owners[0].share", "share 150 is outside 0-100"),
        ],
    ),
    (
        "negative share",
        """
        version: 1
        customers:
          - {id: p, name: P, hq: CN}
          - id: c
            name: C
            hq: DE
            owners:
              - owner: p
                share: -5
        """,
        [(9, "customers[c].owners[0].share", "share -5 is outside 0-100")],
    ),
    (
        "shares in one company over 100",
        """
        version: 1
        customers:
          - {id: p, name: P, hq: CN}
          - {id: q, name: Q, hq: RU}
          - id: c
            name: C
            hq: DE
            owners:
              - {owner: p, share: 60}
              - {owner: q, share: 40.5}
        """,
        [(8, "customers[c].owners", "add up to 100.5%, over 100%")],
    ),
    (
        "share is not a number",
        """
        version: 1
        customers:
          - id: c
            name: C
            hq: DE
            owners:
              - {owner: p, share: 60%}
        """,
        [(7, "customers[c].owners[0].share", "must be a number")],
    ),
    (
        "ownership cycle",
        """
        version: 1
        customers:
          - id: a
            name: A
            hq: DE
            owners: [{owner: b, share: 10}]
          - id: b
            name: B
            hq: DE
            owners: [{owner: c, share: 10}]
          - id: c
            name: C
            hq: DE
            owners:
              - {owner: x, share: 5}
              - {owner: a, share: 10}
        """,
        [
            (15, "customers[c].owners[0].owner", "unknown customer 'x'"),
            (
                16,
                "customers[c].owners[1].owner",
                "ownership cycle: 'a', which is owned by 'b', which is owned by 'c', which is "
                "owned by 'a'",
            ),
        ],
    ),
    (
        "owns itself",
        """
        version: 1
        customers:
          - {id: a, name: A, hq: DE, owners: [{owner: a, share: 10}]}
        """,
        [(3, "customers[a].owners[0].owner", "ownership cycle: 'a', which is owned by 'a'")],
    ),
    (
        "license names a rule that is not license_required",
        licensed("""
        licenses:
          - id: lic
            customer: acme
            rules:
              - needs-license
              - ofac-cuba-place
        """),
        [
            (
                11,
                "licenses[lic].rules[1]",
                "rule 'ofac-cuba-place' is 'deny', but a license can only lift license_required",
            )
        ],
    ),
    (
        "license names an unknown rule",
        licensed("""
        licenses:
          - {id: lic, customer: acme, rules: [needs-licence]}
        """),
        [(7, "licenses[lic].rules[0]", "unknown rule 'needs-licence'")],
    ),
    (
        "license names no rule",
        licensed("""
        licenses:
          - {id: lic, customer: acme, rules: []}
        """),
        [(7, "licenses[lic].rules", "must not be empty")],
    ),
    (
        "rule never matches: not_in removes in",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            places: {in: [UA-43, DE], not_in: [UA, group:g-eu]}
        """,
        [(6, "rules[a].places", "so the rule can never match")],
    ),
    (
        "rule never matches: no model",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            models: {vendors: [anthropic], open_weights: true}
        """,
        [(6, "rules[a].models", "matches no model, so the rule can never match")],
    ),
    (
        "rule never matches: empty access",
        """
        version: 1
        rules:
          - {id: a, effect: deny, title: T, access: []}
        """,
        [(3, "rules[a].access", "omit access to match any access")],
    ),
    (
        "rule never matches: hq_not_in removes hq_in",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            customer:
              hq_in: [FR]
              hq_not_in: [group:g-eu]
        """,
        [(6, "rules[a].customer", "so the rule can never match")],
    ),
    (
        "rule never matches: more than 100%",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            customer:
              controlled_from: {in: [CN], more_than: 100}
        """,
        [(7, "rules[a].customer.controlled_from.more_than", "use at_least: 100")],
    ),
    (
        "controlled_from with both thresholds",
        """
        version: 1
        rules:
          - id: a
            effect: deny
            title: T
            customer:
              controlled_from: {in: [CN], more_than: 50, at_least: 50}
        """,
        [(7, "rules[a].customer.controlled_from", "either more_than or at_least")],
    ),
    (
        "unknown access",
        """
        version: 1
        rules:
          - {id: a, effect: deny, title: T, access: [api, wieghts]}
        """,
        [(3, "rules[a].access[1]", "unknown access 'wieghts' (did you mean 'weights'?)")],
    ),
    (
        "wrong type: members is not a list",
        """
        version: 1
        groups:
          - id: g
            name: G
            members: DE
        """,
        [(5, "groups[g].members", "must be a list such as [a, b], not 'DE'; write [DE]")],
    ),
    (
        "wrong type: a number where text belongs",
        """
        version: 1
        rules:
          - {id: a, effect: deny, title: 1984, places: {in: [CU]}}
        """,
        [(3, "rules[a].title", "must be text, not 1984; put it in quotes")],
    ),
    (
        "wrong type: a section is not a list",
        """
        version: 1
        rules:
          id: a
        """,
        [(2, "rules", "must be a list of entries")],
    ),
    (
        "wrong type: an entry is not a mapping",
        """
        version: 1
        rules:
          - a
        """,
        [(3, "rules[0]", "must be a mapping")],
    ),
    (
        "bad id",
        """
        version: 1
        rules:
          - {id: "my rule", effect: deny, title: T}
        """,
        [(3, "rules[my rule].id", "not a valid id; use letters, digits")],
    ),
    (
        "version 2",
        """
        version: 2
        rules: []
        """,
        [(1, "version", "unsupported version 2; this Clearance reads version 1")],
    ),
    ("version true", "version: true\n", [(1, "version", "unsupported version True")]),
    ("no version", "rules: []\n", [(1, "version", "add `version: 1` at the top")]),
    (
        "unknown top-level section",
        """
        version: 1
        rulez: []
        """,
        [(2, "rulez", "unknown section 'rulez' (did you mean 'rules'?)")],
    ),
    (
        "missing required field",
        """
        version: 1
        models:
          - id: m
            vendor: openai
            family: m
        """,
        [(3, "models[m].name", "required field 'name' is missing; add `name: ...`")],
    ),
    (
        "group cycle",
        """
        version: 1
        groups:
          - id: a
            name: A
            members: [DE, group:b]
          - id: b
            name: B
            members: [group:a]
        """,
        [
            (5, "groups[a].members[1]", "group 'a' contains itself (a -> b -> a)"),
            (8, "groups[b].members[0]", "group 'b' contains itself (b -> a -> b)"),
        ],
    ),
    ("not a mapping at all", "- version: 1\n", [(1, "file", "expected a mapping")]),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in BAD_FILES], ids=[name for name, _, _ in BAD_FILES]
)
def test_bad_file_lists_its_errors(pack: RuleTable, text: str, expected: list[Expected]) -> None:
    assert_errors(errors_of(doc(text), pack), expected)


def test_every_error_of_a_file_is_listed_on_its_own_line(pack: RuleTable) -> None:
    text = doc("""
        version: 1
        groups:
          - {id: g, name: G, members: [DE, XX]}
        customers:
          - {id: c, name: C, hq: DE, owners: [{owner: c2, share: 70}, {owner: c3, share: 70}]}
          - {id: c2, name: C2, hq: DE}
          - {id: c3, name: C3, hq: DE}
        rules:
          - id: a
            efect: deny
            effect: deny
            title: T
            places: {in: [group:nope]}
          - id: b
            effect: forbid
            title: T
          - id: c
            effect: deny
            title: T
            effective_from: 2025-02-30
          - id: a
            effect: deny
            title: T
        extra: 1
        """)
    assert_errors(
        errors_of(text, pack),
        [
            (3, "groups[g].members[1]", "unknown place 'XX'"),
            (5, "customers[c].owners", "add up to 140%"),
            (10, "rules[a].efect", "unknown key 'efect'"),
            (13, "rules[a].places.in[0]", "unknown group 'nope'"),
            (15, "rules[b].effect", "unknown effect 'forbid'"),
            (20, "rules[c].effective_from", "not a real date"),
            (21, "rules[a].id", "duplicate id 'a' (first used on line 9)"),
            (24, "extra", "unknown section 'extra'"),
        ],
    )


def test_parse_text_raises_on_its_own_errors_unless_deferred() -> None:
    text = "version: 1\nrules:\n  - {id: a, effect: review, title: T, everywhere: true, efect: x}\n"
    with pytest.raises(InvalidFile) as exc:
        parse_text(text, "f.yaml")
    assert [str(e) for e in exc.value.errors] == [
        "f.yaml:3: rules[a].efect: unknown key 'efect' (did you mean 'effect'?); allowed here: "
        "access, citation, customer, effect, effective_from, effective_to, everywhere, "
        "explanation, id, listed, models, places, title, unverified, url"
    ]
    parsed = parse_text(text, "f.yaml", defer=True)
    assert [e.field for e in parsed.errors] == ["rules[a].efect"]
    with pytest.raises(InvalidFile):
        check_merged(merge(RuleTable(), parsed, replace=True), parsed, build_place_catalog())


def test_references_to_an_entry_with_errors_are_not_reported_twice(pack: RuleTable) -> None:
    text = doc("""
        version: 1
        groups:
          - {id: g, name: G, members: DE}
        rules:
          - {id: a, effect: deny, title: T, places: {in: [group:g]}}
        """)
    assert_errors(errors_of(text, pack), [(3, "groups[g].members", "must be a list")])


def test_customers_import_refuses_other_sections(pack: RuleTable) -> None:
    text = doc("""
        version: 1
        customers:
          - {id: c, name: C, hq: DE}
        rules:
          - {id: a, effect: deny, title: T}
        """)
    assert_errors(
        errors_of(text, pack, allowed=("customers",)),
        [
            (
                4,
                "rules",
                "'rules' cannot be imported here: this command takes only customers; "
                "use `clearance rules import`",
            )
        ],
    )


def test_a_problem_of_a_database_entry_is_located_at_the_file_entry_that_causes_it(
    pack: RuleTable,
) -> None:
    base = doc(LICENSED) + "licenses:\n  - {id: lic, customer: acme, rules: [needs-license]}\n"
    current = merge(pack, parse_text(base, "base.yaml"), replace=False)
    edit = doc("""
        version: 1
        rules:
          - {id: other, effect: deny, title: T, places: {in: [CU]}}
          - {id: needs-license, effect: deny, title: T, places: {in: [BR]}}
        """)
    assert_errors(
        errors_of(edit, current), [(4, "licenses[lic].rules[0]", "rule 'needs-license' is 'deny'")]
    )
    first = other_than_provenance(errors_of(edit, current))[0]
    assert "licenses[lic] is already in the database" in first.message


def test_a_bad_field_of_an_entry_others_read_reports_nothing_false_about_them(
    pack: RuleTable,
) -> None:
    base = doc("""
        version: 1
        models:
          - {id: m1, name: M1, vendor: openai, family: f, tags: [frontier], open_weights: true}
        rules:
          - {id: r1, effect: review, title: T, models: {tags: [frontier]}}
          - {id: r2, effect: review, title: T, models: {open_weights: true, families: [f]}}
        """)
    current = merge(pack, parse_text(base, "base.yaml"), replace=False)
    # The rules in the database select m1 by its tag and flag: a malformed m1 in the file
    # is reported as such, not as rules that now match no model.
    edit = doc("""
        version: 1
        models:
          - {id: m1, name: M1, vendor: openai, family: f, tags: frontier, open_weights: maybe}
        """)
    assert_errors(
        errors_of(edit, current),
        [
            (3, "models[m1].open_weights", "must be true or false"),
            (3, "models[m1].tags", "must be a list"),
        ],
    )


def test_a_license_is_judged_against_a_rule_whose_effect_is_good_and_title_bad(
    pack: RuleTable,
) -> None:
    text = doc("""
        version: 1
        customers:
          - {id: acme, name: Acme, hq: DE}
        rules:
          - {id: r-deny, effect: deny, title: [oops]}
          - {id: r-typo, effect: licence_required, title: T}
        licenses:
          - {id: L1, customer: acme, rules: [r-deny, r-typo]}
        """)
    assert_errors(
        errors_of(text, pack),
        [
            (5, "rules[r-deny].title", "must be text"),
            (6, "rules[r-typo].effect", "unknown effect 'licence_required'"),
            # r-typo's effect is unknown, so only r-deny is judged
            (8, "licenses[L1].rules[0]", "rule 'r-deny' is 'deny'"),
        ],
    )


def test_an_ownership_cycle_is_reported_while_a_name_is_missing(pack: RuleTable) -> None:
    text = doc("""
        version: 1
        customers:
          - {id: c1, hq: DE, owners: [{owner: c2, share: 60}]}
          - {id: c2, name: C2, hq: DE, owners: [{owner: c1, share: 60}]}
        """)
    errors = errors_of(text, pack)
    assert (3, "customers[c1].name") in [(e.line, e.field) for e in errors]
    assert any("cycle" in e.message or "owns itself" in e.message for e in errors), errors


def test_a_discarded_duplicate_hides_nothing_of_the_first_entry(pack: RuleTable) -> None:
    text = doc("""
        version: 1
        rules:
          - {id: r1, effect: deny, title: T, places: {in: [XX]}}
          - {id: r1, effect: deny, title: T, places: {in: DE}}
        """)
    assert_errors(
        errors_of(text, pack),
        [
            (3, "rules[r1].places.in[0]", "unknown place 'XX'"),
            (4, "rules[r1].places.in", "must be a list"),
            (4, "rules[r1].id", "duplicate id 'r1' (first used on line 3)"),
        ],
    )


def test_read_errors_and_empty_files() -> None:
    with pytest.raises(InvalidFile) as exc:
        read_file(Path("/nonexistent/rules.yaml"))
    assert exc.value.errors[0].field == "file" and "cannot read" in exc.value.errors[0].message
    with pytest.raises(InvalidFile) as exc:
        parse_text("", "e.yaml")
    assert str(exc.value.errors[0]).startswith("e.yaml:1: file: expected a mapping")


# ---------------------------------------------------------------- good files


def test_default_pack_validates_with_no_errors() -> None:
    parsed = read_file(DEFAULT_PACK)
    assert parsed.errors == [] and parsed.invalid == set()
    table = merge(RuleTable(), parsed, replace=True)
    check_merged(table, parsed, build_place_catalog())
    assert len(table.rules) > 30 and len(table.models) > 20 and len(table.groups) > 10


def test_norway_stays_the_string_no() -> None:
    text = doc("""
        version: 1
        groups:
          - {id: nordic, name: Nordic, members: [NO, SE, no]}
        customers:
          - {id: fjord, name: yes, hq: NO, uses: [{model: m, country: NO}]}
        models:
          - {id: m, name: M, vendor: v, family: m, open_weights: true, multimodal: false}
        rules:
          - {id: r, effect: review, title: on, places: {in: [NO]}, unverified: true}
        """)
    parsed = parse_text(text, "n.yaml")
    table = merge(RuleTable(), parsed, replace=True)
    check_merged(table, parsed, build_place_catalog())
    assert table.groups["nordic"].members == ("NO", "SE", "no")
    assert table.customers["fjord"].hq == "NO" and table.customers["fjord"].name == "yes"
    assert table.customers["fjord"].uses[0].country == "NO"
    assert table.rules["r"].places is not None and table.rules["r"].places.in_ == ("NO",)
    assert table.rules["r"].title == "on" and table.rules["r"].unverified is True
    assert table.models["m"].open_weights is True and table.models["m"].multimodal is False
    pack = merge(RuleTable(), read_file(DEFAULT_PACK), replace=True)
    assert "NO" in pack.groups["g-ear-a1"].members


RICH = """
version: 1
vendors:
  - {id: acme, name: Acme Labs, hq: US}
groups:
  - id: g-a
    name: Group A
    members: [DE, FR, group:g-b]
    citation: Reg. 1
    url: https://example.org/a
    effective_from: 2024-01-01
    effective_to: 2030-12-31
    unverified: true
    notes: some notes
  - {id: g-b, name: Group B, members: [UA-43, "NO"]}
models:
  - id: acme-1
    name: Acme 1
    vendor: acme
    family: acme
    open_weights: true
    multimodal: true
    tags: [frontier]
    aliases: [Acme One]
    api_ids: [acme-1-2025]
    cloud_ids: [acme.acme-1:0]
    released: 2025-01-02
    license: MIT
    unverified: true
  - {id: acme-2, name: Acme 2, vendor: acme, family: acme}
customers:
  - {id: parent, name: Parent, hq: CN}
  - {id: ivanov, name: Sergei Ivanov, type: person, hq: RU}
  - id: child
    name: Child GmbH
    aliases: [Child]
    hq: DE
    tags: [government]
    owners: [{owner: parent, share: 50.5}]
    uses: [{model: acme-1, country: FR, access: weights}, {model: acme-2, country: DE}]
rules:
  - id: r-full
    effect: license_required
    title: Full rule
    models: {ids: [acme-1], families: [acme], vendors: [acme], tags: [frontier], open_weights: true}
    places: {in: [group:g-a], not_in: [FR]}
    customer:
      hq_in: [DE]
      hq_not_in: [UA-43]
      tags: [government]
      controlled_from: {not_in: [group:g-a], at_least: 25}
    access: [api, weights]
    effective_from: 2025-01-01
    effective_to: 2026-01-01
    citation: Some citation
    url: https://example.org/r
    explanation: Because.
    unverified: true
  - id: r-listed
    effect: deny
    title: Listed, or owned by the listed
    listed: {lists: [SDN, SSI], programs: [IRAN], party: either}
    access: [weights]
    citation: OFAC
    url: https://example.org/sdn
  - id: r-empty
    effect: review
    title: Everything
    models: {}
    places: {not_in: [CU]}
    customer: {controlled_from: {in: [CN]}}
licenses:
  - id: lic
    customer: child
    rules: [r-full]
    models: {ids: [acme-1]}
    places: [DE, group:g-b]
    valid_from: 2025-01-01
    valid_to: 2025-12-31
    reference: L-1
"""


@pytest.mark.parametrize("source", ["rich", "default pack"])
def test_export_then_import_gives_an_equal_table(source: str) -> None:
    text = RICH if source == "rich" else DEFAULT_PACK.read_text(encoding="utf-8")
    parsed = parse_text(text, "a.yaml")
    table = merge(RuleTable(), parsed, replace=True)
    check_merged(table, parsed, build_place_catalog())
    exported = yaml.safe_dump(table.to_dict(), sort_keys=False, allow_unicode=True, width=100)
    again = parse_text(exported, "export.yaml")
    rebuilt = merge(RuleTable(), again, replace=True)
    check_merged(rebuilt, again, build_place_catalog())
    assert rebuilt == table
    assert rebuilt.to_dict() == table.to_dict()
    if source == "rich":
        # The rich file sets every field, so an equal table proves none of them is lost.
        assert table.rules["r-full"].customer is not None
        cf = table.rules["r-full"].customer.controlled_from
        assert cf is not None and cf.inclusive and cf.threshold == 25
        assert table.customers["child"].owners[0].share == 50.5
        assert (table.customers["ivanov"].type, table.customers["child"].type) == ("person", "org")
        listed = table.rules["r-listed"].listed
        assert listed is not None and (listed.lists, listed.programs, listed.party) == (
            ("SDN", "SSI"),
            ("IRAN",),
            "either",
        )
        assert table.licenses["lic"].valid_to is not None


# ---------------------------------------------------------------- CSV


GOOD_CSV = """\
id,effect,title,models.vendors,models.open_weights,places.in,places.not_in,access,effective_from,unverified,citation,url
csv-deny,deny,"Deny, with a comma",anthropic,,CU;IR,,,2025-01-01,,31 CFR 515,https://www.ecfr.gov/current/title-31/part-515
csv-allow,allow,Allow,,true,DE FR,,api weights,,yes,Vendor terms,https://example.org/terms
csv-review,review,Review,openai,false,,UA-43,,,no,,
"""


def test_csv_good_file(pack: RuleTable, tmp_path: Path) -> None:
    path = tmp_path / "rules.csv"
    # A byte-order mark, as spreadsheets write it, must not spoil the first column name.
    path.write_text(GOOD_CSV, encoding="utf-8-sig")
    parsed = read_file(path)
    assert parsed.errors == []
    merged = merge(pack, parsed, replace=False)
    check_merged(merged, parsed, build_place_catalog())
    deny, allow, review = (merged.rules[k] for k in ("csv-deny", "csv-allow", "csv-review"))
    assert deny.title == "Deny, with a comma" and deny.citation == "31 CFR 515"
    assert deny.places is not None and deny.places.in_ == ("CU", "IR")
    assert deny.models is not None and deny.models.vendors == ("anthropic",)
    assert str(deny.effective_from) == "2025-01-01" and deny.effective_to is None
    assert allow.models is not None and allow.models.open_weights is True
    assert allow.access == ("api", "weights") and allow.unverified is True
    assert review.places is not None and review.places.in_ is None
    assert review.places.not_in == ("UA-43",) and review.unverified is False
    assert review.models is not None and review.models.open_weights is False
    assert parsed.line("rules", "csv-review", "places.not_in") == 4


def test_csv_bad_rows_are_reported_with_their_csv_line(pack: RuleTable) -> None:
    text = (
        "id,effect,title,places.in,unverified,effective_to\n"
        'r1,deny,"a title\nover two lines",CU,,\n'
        "\n"
        "r2,forbid,T,CU,,\n"
        "r3,deny,T,Narnia,maybe,\n"
        "r1,deny,T,CU,,2025-02-31\n"
        "r4,deny,T,CU,,,surplus\n"
    )
    parsed = parse_csv(text, "bad.yaml", defer=True)
    try:
        check_merged(merge(pack, parsed, replace=False), parsed, build_place_catalog())
    except InvalidFile as exc:
        errors = exc.errors
    else:
        pytest.fail("bad CSV accepted")
    assert_errors(
        errors,
        [
            (5, "rules[r2].effect", "unknown effect 'forbid'"),
            (6, "rules[r3].unverified", "must be true or false, not 'maybe'"),
            (6, "rules[r3].places.in[0]", "unknown place 'Narnia'"),
            (7, "rules[r1].effective_to", "not a real date"),
            # The row is also a second r1: reported although its date is bad too.
            (7, "rules[r1].id", "duplicate id 'r1' (first used on line 2)"),
            (8, "rules[r4]", "row has 7 cells but the header has 6 columns"),
        ],
    )


def test_csv_bad_header() -> None:
    with pytest.raises(InvalidFile) as exc:
        parse_csv("id,efect,title\nr,deny,T\n", "r.csv")
    assert [(e.line, e.field) for e in exc.value.errors] == [(1, "efect"), (1, "effect")]
    assert "did you mean 'effect'?" in exc.value.errors[0].message
    assert "required column 'effect' is missing" in exc.value.errors[1].message
    with pytest.raises(InvalidFile) as exc:
        parse_csv("", "r.csv")
    assert "empty CSV" in exc.value.errors[0].message


def test_csv_duplicate_id_names_the_first_line() -> None:
    with pytest.raises(InvalidFile) as exc:
        parse_csv("id,effect,title,everywhere\nr,review,T,true\nr,review,T,true\n", "r.csv")
    assert [str(e) for e in exc.value.errors] == [
        "r.csv:3: rules[r].id: duplicate id 'r' (first used on line 2); give each entry its own id"
    ]


def test_csv_is_not_a_customers_file(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with pytest.raises(InvalidFile) as exc:
        read_file(path, allowed=("customers",))
    assert "CSV file holds rules only" in exc.value.errors[0].message


def test_csv_unnamed_columns_are_ignored_only_while_empty() -> None:
    parsed = parse_csv("id,effect,title,everywhere,,\nr,review,T,true,,\n", "r.csv")
    assert set(parsed.sections["rules"]) == {"r"}
    with pytest.raises(InvalidFile) as exc:
        parse_csv("id,effect,title,everywhere,\nr,review,T,true,oops\n", "r.csv")
    assert [(e.line, e.field) for e in exc.value.errors] == [(2, "rules[r]")]
    assert "'oops' is in a column without a name" in exc.value.errors[0].message


def test_csv_with_semicolons_says_to_use_commas() -> None:
    with pytest.raises(InvalidFile) as exc:
        parse_csv("\nid;effect;title\nr;deny;T\n", "r.csv")
    assert [(e.line, e.field) for e in exc.value.errors] == [(2, "header")]
    assert "separate the columns with commas" in exc.value.errors[0].message


def test_csv_list_membership_columns_round_trip(pack: RuleTable, tmp_path: Path) -> None:
    text = (
        "id,effect,title,listed.lists,listed.programs,listed.party,citation,url\n"
        "csv-listed,deny,Listed,SDN;SSI,IRAN,either,OFAC,https://example.org/sdn\n"
    )
    parsed = parse_csv(text, "listed.csv")
    merged = merge(pack, parsed, replace=False)
    check_merged(merged, parsed, build_place_catalog())
    listed = merged.rules["csv-listed"].listed
    assert listed is not None and (listed.lists, listed.programs, listed.party) == (
        ("SDN", "SSI"),
        ("IRAN",),
        "either",
    )
    exported = rules_to_csv(merged, CSV_FIELDS)
    again = parse_csv(exported, "again.csv")
    assert merge(pack, again, replace=False).rules["csv-listed"] == merged.rules["csv-listed"]
