"""The engine against an evaluator written from the contract alone (issue #2, section 4).

`naive` below shares no code with `bot.domain.rules.evaluator`: it expands groups, tests places, ownership and
licences itself, rule by rule. Hypothesis draws wide tables (nested and cyclic groups,
subdivisions, unknown places, in + not_in, tags, ownership chains with unregistered owners,
licences with scopes, dates up to 9999-12-31, a group with dated versions and a `known_from`)
and asks about every date where something starts or ends, so the engine's index, caches and lazy
lists are all exercised. Unregistered customers may have no stated headquarters, and closed-weight
models are asked about for their weights.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.names.places import build_place_catalog
from bot.domain.rules.conditions import ControlSpec, CustomerSpec, ModelSelector, PlaceSpec
from bot.domain.rules.entities import Customer, Group, GroupVersion, ModelInfo, Owner
from bot.domain.rules.evaluator import Engine
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import License, Rule, RuleTable
from bot.domain.rules.verdicts import EFFECT_RANK, Evaluation, Match

CATALOG = build_place_catalog(["RU-MOW", "US-CA"])
PLACES = [
    "DE",
    "FR",
    "CN",
    "UA",
    "UA-43",
    "UA-40",
    "UA-14",
    "RU",
    "RU-MOW",
    "US",
    "US-CA",
    "SG",
    "XX",
    "FR-75",
]  # XX: no such country; FR-75: a subdivision no rule names
REFS = [*PLACES, "group:g1", "group:g2", "group:g3", "group:missing"]
MODELS = {
    "m-closed": ModelInfo("m-closed", "Closed", "acme", "acme", open_weights=False),
    "m-open": ModelInfo("m-open", "Open", "acme", "acme-open", open_weights=True),
    "z-1": ModelInfo("z-1", "Zeta", "zeta", "zeta", tags=("frontier",)),
    "lonely": ModelInfo("lonely", "Lonely", "nobody", "nobody"),  # no rule covers it
}
ASKED_MODELS = [*MODELS, "not-in-table"]
DAYS = [date(2025, 1, 1), date(2025, 6, 30), date(2025, 7, 1), date(2026, 1, 1)]
ASKED_DAYS = sorted(
    {d + timedelta(days=k) for d in DAYS for k in (-1, 0, 1)}
    | {date(2000, 1, 1), date(2099, 1, 1), date.max}
)
TAGS = ["government", "defense", "edu"]

refs = st.lists(st.sampled_from(REFS), max_size=3, unique=True).map(tuple)
place_specs = st.builds(PlaceSpec, in_=st.one_of(st.none(), refs), not_in=refs)
selectors = st.one_of(
    st.none(),
    st.builds(ModelSelector, ids=st.lists(st.sampled_from(ASKED_MODELS), max_size=2).map(tuple)),
    st.builds(ModelSelector, vendors=st.sampled_from([("acme",), ("zeta",), ("ghost",)])),
    st.builds(ModelSelector, families=st.sampled_from([("acme-open",), ("zeta", "acme")])),
    st.builds(ModelSelector, tags=st.sampled_from([("frontier",), ("none",)])),
    st.builds(ModelSelector, open_weights=st.booleans()),
)
controls = st.builds(
    ControlSpec,
    places=place_specs,
    threshold=st.sampled_from([0.0, 25.0, 50.0, 60.0, 100.0]),
    inclusive=st.booleans(),
)
customer_specs = st.one_of(
    st.none(),
    st.builds(
        CustomerSpec,
        hq_in=st.one_of(st.none(), refs),
        hq_not_in=refs,
        tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple),
        controlled_from=st.one_of(st.none(), controls),
    ),
)
days = st.one_of(st.none(), st.sampled_from([*DAYS, date.max]))


@st.composite
def rule(draw: st.DrawFn, i: int) -> Rule:
    return Rule(
        id=f"{draw(st.sampled_from('raz'))}{i}",  # ids that sort in any order against effects
        effect=draw(st.sampled_from(["allow", "review", "license_required", "deny"])),
        title="t",
        models=draw(selectors),
        places=draw(st.one_of(st.none(), place_specs)),
        customer=draw(customer_specs),
        access=draw(st.one_of(st.none(), st.sampled_from([(), ("weights",), ("api", "hosted")]))),
        effective_from=draw(days),
        effective_to=draw(days),
    )


@st.composite
def tables(draw: st.DrawFn) -> RuleTable:
    rules = [draw(rule(i)) for i in range(draw(st.integers(0, 14)))]
    groups = {  # g1 and g2 name each other: expansion must stop
        "g1": Group(
            "g1", "G1", tuple(draw(st.lists(st.sampled_from([*PLACES, "group:g2"]), max_size=3)))
        ),
        "g2": Group(
            "g2",
            "G2",
            tuple(draw(st.lists(st.sampled_from([*PLACES, "group:g1", "group:g3"]), max_size=3))),
        ),
        "g3": Group(
            "g3",
            "G3",
            tuple(draw(st.lists(st.sampled_from(PLACES), max_size=3))),
            versions=tuple(
                GroupVersion(start, end, tuple(draw(st.lists(st.sampled_from(PLACES), max_size=3))))
                for start, end in draw(
                    st.sampled_from([(), ((None, DAYS[1]),), ((DAYS[0], DAYS[1]), (DAYS[2], None))])
                )
            ),
            known_from=draw(st.sampled_from([None, DAYS[0], DAYS[2]])),
        ),
    }
    customers: dict[str, Customer] = {}
    for k in range(draw(st.integers(1, 5))):
        owners = tuple(
            Owner(o, draw(st.sampled_from([10.0, 25.0, 50.0, 60.0])))
            for o in draw(st.lists(st.sampled_from([*customers, "ghost"]), max_size=3, unique=True))
        )
        customers[f"c{k}"] = Customer(
            f"c{k}",
            f"C{k}",
            draw(st.sampled_from(PLACES)),
            tags=tuple(draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True))),
            owners=owners,
        )
    licensable = [r.id for r in rules if r.effect == "license_required"] or ["none"]
    licenses = {
        f"L{j}": License(
            f"L{j}",
            draw(st.sampled_from([*customers, "ghost"])),
            tuple(draw(st.lists(st.sampled_from(licensable), min_size=1, max_size=3, unique=True))),
            draw(selectors),
            draw(st.one_of(st.none(), refs)),
            draw(days),
            draw(days),
        )
        for j in range(draw(st.integers(0, 5)))
    }
    return RuleTable(
        groups=groups,
        models=dict(MODELS),
        customers=customers,
        rules={r.id: r for r in rules},
        licenses=licenses,
    )


@st.composite
def subjects(draw: st.DrawFn, table: RuleTable) -> Subject:
    country = draw(st.sampled_from(PLACES))
    access = draw(st.sampled_from(["api", "weights", "hosted"]))
    model = draw(st.sampled_from(ASKED_MODELS))
    if draw(st.booleans()):
        customer = table.customers[draw(st.sampled_from(sorted(table.customers)))]
        return Subject(customer, customer.hq, country, model, access)
    hq = country if draw(st.booleans()) else draw(st.sampled_from([*PLACES, None]))
    return Subject(None, hq, country, model, access, draw(st.sampled_from([None, "Foo"])))


# ------------------------------------------------------------ the contract, read literally


def expand(refs: tuple[str, ...], table: RuleTable, on: date = date.max) -> set[str]:
    """The places a list names on a date: each group as its version in force then has it."""
    out: set[str] = set()
    seen: set[str] = set()
    stack = list(refs)
    while stack:
        ref = stack.pop()
        if ref.startswith("group:"):
            if ref not in seen:
                seen.add(ref)
                group = table.groups.get(ref[len("group:") :])
                if group is not None:
                    version = next((v for v in group.versions if v.in_force(on)), None)
                    stack.extend(version.members if version else group.members)
        else:
            out.add(ref.upper())
    return out


def unknown_on(refs: tuple[str, ...], table: RuleTable, on: date) -> bool:
    """Whether a list reads, at any depth and in any version, a group not known on the date."""
    seen: set[str] = set()
    stack = [r for r in refs if r.startswith("group:")]
    while stack:
        ref = stack.pop()
        if ref in seen:
            continue
        seen.add(ref)
        group = table.groups.get(ref[len("group:") :])
        if group is None:
            continue
        if group.known_from is not None and on < group.known_from:
            return True
        for m in [*group.members, *(m for v in group.versions for m in v.members)]:
            if m.startswith("group:"):
                stack.append(m)
    return False


def inside(
    spec_in: tuple[str, ...] | None,
    spec_out: tuple[str, ...],
    code: str,
    table: RuleTable,
    on: date = date.max,
) -> bool:
    """A country listed covers its subdivisions; a subdivision covers only itself.

    A list not known on the date could hold the place: an `in` reading one holds, and each
    `not_in` entry reading one excludes nothing.
    """
    covering = {code} | ({p} if (p := CATALOG.parent_of(code)) else set())
    kept = tuple(r for r in spec_out if not unknown_on((r,), table, on))
    if covering & expand(kept, table, on):
        return False
    if spec_in is None or unknown_on(spec_in, table, on):
        return True
    return bool(covering & expand(spec_in, table, on))


def controlled(table: RuleTable, cid: str, spec: ControlSpec, on: date) -> bool:
    customer = table.customers[cid]
    if inside(spec.places.in_, spec.places.not_in, customer.hq, table, on):
        return True
    share = sum(
        o.share
        for o in customer.owners
        if o.owner in table.customers and controlled(table, o.owner, spec, on)
    )
    return share >= spec.threshold - 1e-9 if spec.inclusive else share > spec.threshold + 1e-9


def naive(table: RuleTable, s: Subject, on: date) -> tuple[Any, ...]:
    model = table.models.get(s.model)
    matches: list[tuple[str, str, str | None]] = []
    pending: list[tuple[str, str]] = []
    if model is not None and not model.open_weights and s.access == "weights":
        matches.append(("closed-weights", "deny", None))  # the catalog's own rule
    for r in table.rules.values() if model else ():
        if (r.models is not None and not r.models.matches(model)) or not r.in_force(on):  # type: ignore[arg-type]
            continue
        if r.access is not None and s.access not in r.access:
            continue
        effect = r.effect
        if any(
            unknown_on(refs, table, on)
            for refs in (
                (r.places.in_ or ()) + r.places.not_in if r.places else (),
                (r.customer.hq_in or ()) + r.customer.hq_not_in if r.customer else (),
                (r.customer.controlled_from.places.in_ or ())
                + r.customer.controlled_from.places.not_in
                if r.customer and r.customer.controlled_from
                else (),
            )
        ):
            effect = "review"  # a list it reads is not known on that date: at most review
        if r.places is not None and not inside(r.places.in_, r.places.not_in, s.country, table, on):
            continue
        unknown = False
        c = r.customer
        if c is not None:
            hq_tested = c.hq_in is not None or bool(c.hq_not_in)
            if s.hq is None and s.customer is None and (hq_tested or c.controlled_from):
                pending.append((r.id, effect))  # the headquarters was not stated
                continue
            # Known here whenever a condition reads it (an unknown one was pending above).
            hq = (s.customer.hq if s.customer is not None else s.hq) or ""
            if hq_tested and not inside(c.hq_in, c.hq_not_in, hq, table, on):
                continue
            if c.tags:
                if s.customer is None:
                    unknown = True
                elif not set(c.tags) & set(s.customer.tags):
                    continue
            cf = c.controlled_from
            if cf is not None and not inside(cf.places.in_, cf.places.not_in, hq, table, on):
                if s.customer is None:
                    unknown = True
                elif not controlled(table, s.customer.id, cf, on):
                    continue
        if unknown:
            pending.append((r.id, effect))
            continue
        lic = None
        if effect == "license_required" and s.customer is not None:
            lic = next(
                (
                    L.id
                    for L in table.licenses.values()
                    if L.customer == s.customer.id
                    and r.id in L.rules
                    and L.valid_on(on)
                    and (L.models is None or L.models.matches(model))  # type: ignore[arg-type]
                    # A licence naming a list not known on the date covers nothing for sure.
                    and (
                        L.places is None
                        or (
                            not unknown_on(L.places, table, on)
                            and inside(L.places, (), s.country, table, on)
                        )
                    )
                ),
                None,
            )
        matches.append((r.id, "allow" if lic else effect, lic))
    matches.sort(key=lambda m: (-EFFECT_RANK[m[1]], m[0]))
    if not matches:
        return ("review", (), (), tuple(sorted(p[0] for p in pending)))
    top = EFFECT_RANK[matches[0][1]]
    stricter = tuple(sorted(p[0] for p in pending if EFFECT_RANK[p[1]] > top))
    verdict = {
        "allow": "allowed",
        "review": "review",
        "license_required": "license_required",
        "deny": "denied",
    }[matches[0][1]]
    return (
        "conditional" if verdict == "allowed" and stricter else verdict,
        tuple(m for m in matches if EFFECT_RANK[m[1]] == top),
        tuple(m for m in matches if EFFECT_RANK[m[1]] != top),
        stricter,
    )


def _listed(ms: tuple[Match, ...]) -> tuple[tuple[str, str, str | None], ...]:
    return tuple((m.rule.id, m.effect, m.license.id if m.license else None) for m in ms)


def _summary(ev: Evaluation) -> tuple[Any, ...]:
    return (
        ev.verdict,
        _listed(ev.deciding),
        _listed(ev.overridden),
        tuple(p.rule.id for p in ev.pending),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_engine_decides_as_the_contract_reads(data: st.DataObject) -> None:
    table = data.draw(tables())
    engine = Engine(table, CATALOG)
    for subject in [data.draw(subjects(table)) for _ in range(3)]:
        for on in ASKED_DAYS:
            assert _summary(engine.evaluate(subject, on)) == naive(table, subject, on), (
                subject,
                on,
            )
