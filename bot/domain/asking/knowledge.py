"""Knowledge: the rule table at one revision with what answering needs, built once and reused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.asking.catalog import ModelCatalog, build_model_catalog
from bot.domain.asking.customer_names import CustomerFinder, CustomerIndex
from bot.domain.names.places import PlaceCatalog, build_place_catalog
from bot.domain.rules.evaluator import Engine
from bot.domain.rules.table import Rule, RuleTable
from bot.domain.rules.verdicts import Match


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
