"""Answers: a parsed question plus the rule table gives a cited, explainable verdict.

`Knowledge` is everything a decision needs at one revision, built once and reused. `answer()` is
pure: the caller passes today's date and the decision id, and writes the audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bot.domain.asking.catalog import ModelCatalog, build_model_catalog
from bot.domain.asking.customer_names import CustomerFinder, CustomerIndex
from bot.domain.asking.questions import Question
from bot.domain.errors import Candidate, QuestionError
from bot.domain.names.places import PlaceCatalog, build_place_catalog
from bot.domain.rules.dated_groups import groups_read, rule_refs
from bot.domain.rules.entities import Customer
from bot.domain.rules.evaluator import Engine
from bot.domain.rules.listed import ListFacts
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import Rule, RuleTable
from bot.domain.rules.verdicts import VERDICT_OF, VERDICT_RANK, Evaluation, Match, Pending


@dataclass
class Knowledge:
    """The rule table at one revision with its indexes: places, models, customers, rules."""

    table: RuleTable
    places: PlaceCatalog
    models: ModelCatalog
    customers: CustomerFinder
    engine: Engine
    # Rule id -> its cited form: an answer at 10,000 rules lists ~40 matches, each cited.
    _citations: dict[tuple[str, str, str], dict[str, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def revision(self) -> int:
        """Return the rule-table revision this knowledge reflects."""
        return self.table.revision

    def reason(self, match: Match) -> dict[str, Any]:
        """Return a match as answers list it: the rule's citation, its license and detail."""
        # By id, effect and citation: a rule read before its list is known gives review, and
        # the catalog's closed-weights rule cites each model.
        key = (match.rule.id, match.rule.effect, match.rule.citation)
        cited = self._citations.get(key)
        if cited is None:
            cited = self._citations[key] = rule_citation(match.rule)
        data = dict(cited)  # each answer owns its dicts: callers may add to them
        if match.license is not None:
            lic = match.license
            data["license"] = {
                "id": lic.id,
                "reference": lic.reference,
                "valid_from": lic.valid_from.isoformat() if lic.valid_from else None,
                "valid_to": lic.valid_to.isoformat() if lic.valid_to else None,
            }
        if match.detail:
            data["detail"] = match.detail
        return data


def referenced_subdivisions(table: RuleTable) -> set[str]:
    """Return the subdivision codes (with a '-') that groups, rules or customers name."""
    refs: set[str] = set()
    for g in table.groups.values():
        refs.update(g.members)
        refs.update(g.except_)
    for r in table.rules.values():
        for spec in (
            r.places,
            r.customer and r.customer.controlled_from and r.customer.controlled_from.places,
        ):
            if spec:
                refs.update(spec.in_ or ())
                refs.update(spec.not_in)
        if r.customer:
            refs.update(r.customer.hq_in or ())
            refs.update(r.customer.hq_not_in)
    for c in table.customers.values():
        refs.add(c.hq)
        refs.update(u.country for u in c.uses)
    return {x.upper() for x in refs if "-" in x and not x.startswith("group:")}


def build_knowledge(table: RuleTable, *, customers: CustomerFinder | None = None) -> Knowledge:
    """Index a rule table for answering (customers found in memory unless a finder is given)."""
    places = build_place_catalog(referenced_subdivisions(table))
    models = build_model_catalog(table.models.values(), table.vendors.values())
    return Knowledge(
        table, places, models, customers or CustomerIndex(table.customers), Engine(table, places)
    )


def rule_citation(rule: Rule) -> dict[str, Any]:
    """Return the cited form of a rule, as answers and exports show it."""
    return {
        "rule": rule.id,
        "effect": rule.effect,
        "title": rule.title,
        "citation": rule.citation,
        "url": rule.url,
        "explanation": rule.explanation,
        "effective_from": rule.effective_from.isoformat() if rule.effective_from else None,
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
        "unverified": rule.unverified,
    }


@dataclass
class Answer:
    """A verdict with the rules that decided it, as `clearance ask --json` prints it."""

    verdict: str
    question: str
    customer: dict[str, Any]
    country: str
    model: str | None
    access: str
    as_of: date
    reasons: list[dict[str, Any]]
    revision: int
    decision_id: str
    models: list[str] = field(default_factory=list)
    overridden: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None  # why there is no deciding rule ("no rule covers this")
    screening: dict[str, Any] | None = None  # restricted-party screening (bot.services.screening)

    def rule_ids(self) -> list[str]:
        """Return the ids of the deciding rules."""
        return [r["rule"] for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "question": self.question,
            "customer": self.customer,
            "country": self.country,
            "model": self.model,
            "models": self.models,
            "access": self.access,
            "as_of": self.as_of.isoformat(),
            "reasons": self.reasons,
            "overridden": self.overridden,
            "conditions": self.conditions,
            "assumptions": self.assumptions,
            "warnings": self.warnings,
            "revision": self.revision,
            "decision_id": self.decision_id,
            **({"screening": self.screening} if self.screening is not None else {}),
        }


@dataclass(frozen=True)
class _Who:
    customer: Customer | None
    name: str | None
    hq: str | None  # None: an unregistered customer whose headquarters the question did not give
    country: str
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    hq_source: str = "registered"  # "registered", "question" (placed there), "stated", "unknown"
    similar: tuple[Customer, ...] = ()  # registered customers an unregistered name looks like


def _resolve_who(q: Question, kb: Knowledge) -> _Who:
    registered = kb.customers.find(q.customer) if q.customer and not q.unregistered else None
    assumptions: list[str] = []
    warnings: list[str] = []
    country = q.country
    if registered is not None:
        if country is None:
            country = registered.hq
            assumptions.append(
                f"No place of use given: used {registered.name}'s headquarters, "
                f"{kb.places.label(country)}."
            )
        if q.hq_reading == "stated" and q.hq != registered.hq:
            warnings.append(
                f"The question says headquartered in {kb.places.label(q.hq or '')}, but "
                f"{registered.name} is registered as headquartered in "
                f"{kb.places.label(registered.hq)}: the registered headquarters was used."
            )
        return _Who(
            registered, registered.name, registered.hq, country, tuple(assumptions), tuple(warnings)
        )
    if country is None and q.hq_reading == "stated" and q.hq is not None:
        country = q.hq
        assumptions.append(
            f"No place of use given: used the stated headquarters, {kb.places.label(country)}."
        )
    if country is None:
        # Say why "Acme in Kosovo" was read as a name: its place is not one the catalog knows.
        why = (
            f" I read '{q.customer}' as the customer's name: '{q.unplaced}' is not a place I know."
            if q.unplaced and q.customer
            else ""
        )
        raise QuestionError(
            "missing_country",
            f"Where will {q.customer or 'the customer'} use the model?{why} "
            "Add the place, e.g. '... in Germany ...'.",
        )
    who = q.customer or "The customer"
    hq = q.hq if q.hq_reading else None
    if q.hq_reading == "placed":
        source = "question"
        seat = f"headquarters taken from the question: {kb.places.label(hq or country)}"
    elif q.hq_reading == "stated":
        source = "stated"
        seat = f"headquarters as stated: {kb.places.label(hq or country)}"
    else:
        source = "unknown"
        seat = (
            "headquarters not stated, so every rule that depends on it is a condition "
            "(say where it is headquartered, e.g. 'X (US)' or hq=US)"
        )
    similar: list[Customer] = []
    if q.customer:
        assumptions.append(
            f"{who} is not a registered customer: {seat}; its owners and tags are unknown."
        )
        similar = [] if q.unregistered else kb.customers.similar(q.customer)
        if similar:
            names = ", ".join(f"{c.name} ({kb.places.label(c.hq)})" for c in similar)
            warnings.append(
                f"'{q.customer}' is not registered, but these are: {names}. "
                "Ask with the registered name if you meant one of them."
            )
    else:
        assumptions.append(f"No customer named: {seat}; owners and tags are unknown.")
    return _Who(
        None, q.customer, hq, country, tuple(assumptions), tuple(warnings), source, tuple(similar)
    )


def _customer_json(who: _Who) -> dict[str, Any]:
    if who.customer is not None:
        return {
            "id": who.customer.id,
            "name": who.customer.name,
            "registered": True,
            "hq": who.customer.hq,
        }
    return {
        "id": None,
        "name": who.name,
        "registered": False,
        "hq": who.hq,
        "hq_source": who.hq_source,
    }


def describe_hq(customer: dict[str, Any]) -> str:
    """Say where an answer's customer is headquartered and where that came from."""
    hq = customer.get("hq")
    if hq is None:
        return "HQ unknown"
    source = customer.get("hq_source")
    if source == "question":
        return f"HQ {hq}, taken from the question"
    if source == "stated":
        return f"HQ {hq}, as stated"
    return f"HQ {hq}"


def merge_conditions(pending: tuple[Pending, ...], who: str | None) -> list[str]:
    """Word the pending rules as conditions: one per unknown fact, listing the rules it triggers.

    Every rule that waits only on the unknown headquarters shares one condition; other rules
    that wait on the same fact (the same wording) share theirs.
    """
    seats = [p for p in pending if p.fact == "hq"]
    grouped: dict[str, list[Pending]] = {}
    for p in pending:
        if p.fact != "hq":
            grouped.setdefault(p.condition, []).append(p)
    out = []
    if seats:
        by_place: dict[str, list[Pending]] = {}
        for p in seats:
            by_place.setdefault(p.places, []).append(p)
        places = "; ".join(
            f"{place} (else {_rules_words(rules)})" for place, rules in by_place.items()
        )
        out.append(f"Only if {who or 'the customer'} is not headquartered in any of: {places}.")
    for condition, rules in grouped.items():
        out.append(f"Only if {condition} (else {_rules_words(rules, titled=True)}).")
    return out


def _rules_words(rules: list[Pending], *, titled: bool = False) -> str:
    """Name the rules an unknown fact would trigger, with the verdict each would give."""
    word = "rule" if len(rules) == 1 else "rules"
    parts = [
        f"{p.rule.id}" + (f" ({p.rule.title})" if titled else "") + f": {VERDICT_OF[p.rule.effect]}"
        for p in rules
    ]
    return f"{word} " + "; ".join(parts)


def _subdivision_warnings(kb: Knowledge, subject: Subject, verdict: str, as_of: date) -> list[str]:
    place = kb.places.get(subject.country)
    if place is None or place.kind != "country":
        return []
    out = []
    for sub in sorted(kb.engine.subdivisions_named.get(place.code, ())):
        other = kb.engine.evaluate(replace(subject, country=sub), as_of).verdict
        if other != verdict:
            out.append(f"Different in {kb.places.label(sub)}: {other.replace('_', ' ')}.")
    return out


def _build(
    q: Question,
    kb: Knowledge,
    who: _Who,
    model: str,
    as_of: date,
    decision_id: str,
    listing: ListFacts | None = None,
) -> tuple[Answer, Evaluation]:
    subject = Subject(who.customer, who.hq, who.country, model, q.access, who.name, listing)
    ev = kb.engine.evaluate(subject, as_of)
    reasons = [kb.reason(m) for m in ev.deciding]
    warnings = list(who.warnings)
    warnings += _subdivision_warnings(kb, subject, ev.verdict, as_of)
    warnings += [
        f"Rule {m.rule.id} rests on facts not verified against a primary source."
        for m in ev.deciding
        if m.rule.unverified
    ]
    conditions = merge_conditions(ev.pending, who.name)
    answer = Answer(
        ev.verdict,
        q.text,
        _customer_json(who),
        who.country,
        model,
        q.access,
        as_of,
        reasons,
        kb.revision,
        decision_id,
        [model],
        [kb.reason(m) for m in ev.overridden],
        conditions,
        list(who.assumptions),
        warnings,
        ev.reason,
    )
    return answer, ev


def _check_released(kb: Knowledge, model: str, as_of: date) -> None:
    """Raise `not_released` for a date before the model existed."""
    info = kb.table.models.get(model)
    if info is not None and info.released is not None and as_of < info.released:
        raise QuestionError(
            "not_released",
            f"{info.name} was released on {info.released.isoformat()}, after "
            f"{as_of.isoformat()}: there is nothing to decide on that date. "
            f"Ask as of {info.released.isoformat()} or later.",
            (Candidate(info.released.isoformat(), f"as of {info.released.isoformat()}"),),
        )


def past_date_warnings(kb: Knowledge, a: Answer, today: date) -> list[str]:
    """Say which lists a past date was answered with as they stand now (no dated version)."""
    if a.as_of >= today:
        return []
    names: dict[str, None] = {}
    for r in a.reasons:
        rule = kb.table.rules.get(r["rule"])
        if rule is None:
            continue
        for gid in groups_read(rule_refs(rule), kb.table):
            group = kb.table.groups.get(gid)
            if group is not None and not any(v.in_force(a.as_of) for v in group.versions):
                names[group.name] = None
    if not names:
        return []
    return [
        f"Answered for {a.as_of.isoformat()} with these lists as the table holds them now, "
        f"without an earlier dated version: {', '.join(names)}."
    ]


def _model_warnings(kb: Knowledge, model: str, as_of: date) -> list[str]:
    info = kb.table.models.get(model)
    if info is not None and info.retired is not None and as_of > info.retired:
        return [f"{info.name} was retired on {info.retired.isoformat()}."]
    return []


def _refuse_looser_reading(
    q: Question, kb: Knowledge, who: _Who, result: Answer, models: list[str], as_of: date
) -> None:
    """Ask back when a registered customer the name looks like would get a stricter verdict.

    Answering for the unregistered reading would then be looser than what the asker may mean.
    """
    if who.customer is not None or not q.customer or q.unregistered:
        return
    if not who.similar:
        return
    verdicts = []
    for c in who.similar:
        worst = max(
            (
                kb.engine.evaluate(Subject(c, c.hq, who.country, m, q.access), as_of).verdict
                for m in models
            ),
            key=VERDICT_RANK.__getitem__,
        )
        verdicts.append((c, worst))
    if not any(VERDICT_RANK[v] > VERDICT_RANK[result.verdict] for _, v in verdicts):
        return
    raise QuestionError(
        "ambiguous_customer",
        f"'{q.customer}' is not registered, but it looks like a registered customer that "
        "would get a stricter answer. Which customer do you mean?",
        (
            *(
                Candidate(c.name, f"{c.name} ({kb.places.label(c.hq)}): {v.replace('_', ' ')}")
                for c, v in verdicts
            ),
            Candidate(
                f"unregistered {q.customer}",
                f"{q.customer}, not registered: {result.verdict.replace('_', ' ')}",
            ),
        ),
        phrase=q.customer,
    )


def party_of(q: Question, kb: Knowledge) -> tuple[Customer | None, str | None, str]:
    """Whom a question asks about, for screening: the registered customer (or None), the name,
    and its headquarters (else the place of use); raise `QuestionError` as `answer` would."""
    who = _resolve_who(q, kb)
    return who.customer, who.name, who.hq or who.country


def answer(
    q: Question,
    kb: Knowledge,
    *,
    today: date,
    decision_id: str,
    listing: ListFacts | None = None,
) -> Answer:
    """Decide a parsed question against the knowledge; raise `QuestionError` if unanswerable.

    `listing` is what screening found about the customer (`party_of`); without it no `listed`
    rule holds.
    """
    who = _resolve_who(q, kb)
    as_of = q.as_of or today
    if q.model is not None:
        _check_released(kb, q.model, as_of)
        single = _build(q, kb, who, q.model, as_of, decision_id, listing)[0]
        single.warnings += _model_warnings(kb, q.model, as_of)
        single.warnings += past_date_warnings(kb, single, today)
        _refuse_looser_reading(q, kb, who, single, [q.model], as_of)
        return single
    released = [
        m
        for m in q.model_candidates
        if (info := kb.table.models.get(m)) is None
        or info.released is None
        or info.released <= as_of
    ]
    if not released:
        _check_released(kb, q.model_candidates[0], as_of)
    # An ambiguous model phrase: answer for all of them only if they all agree.
    results = [_build(q, kb, who, m, as_of, decision_id, listing) for m in released]
    verdicts = {a.verdict for a, _ in results}
    if len(verdicts) == 1:
        _refuse_looser_reading(
            q, kb, who, results[0][0], [a.model or "" for a, _ in results], as_of
        )
    if len(verdicts) != 1:
        raise QuestionError(
            "ambiguous_model",
            f"'{q.model_phrase}' covers several models with different answers. Which one?",
            tuple(
                Candidate(a.model or "", f"{kb.models.label(a.model or '')}: {a.verdict}")
                for a, _ in results
            ),
        )
    first = results[0][0]
    seen: dict[str, dict[str, Any]] = {}
    for a, _ in results:
        for r in a.reasons:
            seen.setdefault(r["rule"], r)
    first.models = [a.model or "" for a, _ in results]
    if len(results) == 1:
        # A partial name that fits one model: answer for it, and say how the name was read.
        first.assumptions.append(
            f"'{q.model_phrase}' was read as {kb.models.label(first.models[0])}."
        )
        return first
    first.model = None
    first.reasons = list(seen.values())
    first.warnings += past_date_warnings(kb, first, today)
    first.conditions = sorted({c for a, _ in results for c in a.conditions})
    first.warnings = sorted({w for a, _ in results for w in a.warnings})
    first.assumptions.append(
        f"'{q.model_phrase}' covers {len(results)} models ({', '.join(first.models)}); "
        f"all get the same verdict."
    )
    return first
