"""Licenses: which license of a customer lets a license_required rule pass, on a date and place."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from datetime import date

from bot.domain.names.places import PlaceCatalog
from bot.domain.rules.dated_groups import groups_read
from bot.domain.rules.place_sets import Expanded, expand_cached, expand_places
from bot.domain.rules.subject import Subject
from bot.domain.rules.table import License, Rule, RuleTable


@dataclass
class Licenses:
    """The table's licenses by customer and rule, with the places each one covers expanded."""

    table: RuleTable
    catalog: PlaceCatalog
    expanded: InitVar[Expanded | None] = None  # expansions shared with the rules' compilation
    # Customer id -> the rules its licenses name: most customers hold none, and a licensee's
    # licenses name few of the license_required rules that match, so only those are looked up.
    held: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _by_rule: dict[tuple[str, str], list[License]] = field(default_factory=dict, repr=False)
    _places: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self, expanded: Expanded | None) -> None:
        for lic in self.table.licenses.values():
            self.held[lic.customer] = self.held.get(lic.customer, frozenset()).union(lic.rules)
            for rid in lic.rules:
                self._by_rule.setdefault((lic.customer, rid), []).append(lic)
            if lic.places is not None:
                self._places[lic.id] = expand_cached(lic.places, self.table, expanded)

    def license_for(self, rule: Rule, subject: Subject, as_of: date) -> License | None:
        """Return a license of the subject's customer that covers the rule, if one does."""
        if subject.customer is None:
            return None
        held = self._by_rule.get((subject.customer.id, rule.id))
        if not held:
            return None
        model = self.table.models[subject.model]
        parent = self.catalog.parent_of(subject.country)
        for lic in held:
            if not lic.valid_on(as_of):
                continue
            if lic.models is not None and not lic.models.matches(model):
                continue
            if lic.places is not None:
                allowed = self._places_on(lic, as_of)
                if allowed is None:
                    continue  # a list it names is not known on that date: it covers nothing sure
                if subject.country not in allowed and (parent is None or parent not in allowed):
                    continue
            return lic
        return None

    def _places_on(self, lic: License, on: date) -> frozenset[str] | None:
        """Return where a licence applies on a date, or None when a group it reads is unknown."""
        assert lic.places is not None
        dated = [
            g
            for gid in groups_read(list(lic.places), self.table)
            if (g := self.table.groups.get(gid))
        ]
        if not any(g.is_dated() for g in dated):
            return self._places[lic.id]
        if any(g.known_from is not None and on < g.known_from for g in dated):
            return None
        return expand_places(lic.places, self.table, on)
