"""Checks of models: their vendor, and names, aliases or API ids that two models share."""

from __future__ import annotations

from bot.domain.names.keys import model_key
from bot.domain.rules.entities import ModelInfo
from bot.domain.rules.problems import Problem
from bot.domain.rules.suggestions import did_you_mean
from bot.domain.rules.table import RuleTable


def _model_names(m: ModelInfo) -> list[tuple[str, str]]:
    return [
        ("id", m.id),
        ("name", m.name),
        *((f"aliases[{i}]", a) for i, a in enumerate(m.aliases)),
        *((f"api_ids[{i}]", a) for i, a in enumerate(m.api_ids)),
        *((f"cloud_ids[{i}]", a) for i, a in enumerate(m.cloud_ids)),
    ]


def _model_name_clashes(table: RuleTable) -> list[Problem]:
    """Report a name, alias or API id that also names another model.

    Questions resolve models by these names (case, spaces and punctuation ignored), so a shared
    one would turn a question about either model into an ambiguous one. When one model's id is
    the name, the others are blamed; otherwise every model that uses it is, once.
    """
    claims: dict[str, list[tuple[str, str, str]]] = {}
    for m in table.models.values():
        for field, text in _model_names(m):
            if key := model_key(text):
                claims.setdefault(key, []).append((m.id, field, text))
    out = []
    for found in claims.values():
        models = {mid for mid, _, _ in found}
        if len(models) < 2:
            continue
        by_id = {mid for mid, field, _ in found if field == "id"}
        owner = next(iter(by_id)) if len(by_id) == 1 else None
        blamed: dict[str, tuple[str, str]] = {}
        for mid, field, text in found:
            if mid != owner:
                blamed.setdefault(mid, (field, text))
        for mid, (field, text) in blamed.items():
            others = sorted(models - {mid})
            out.append(
                Problem(
                    "models",
                    mid,
                    field,
                    (
                        f"'{text}' also names model {', '.join(repr(o) for o in others)}: a name, alias "
                        "or API id may name one model only, or questions about it are ambiguous; remove "
                        "it from one of them"
                    ),
                    ("models", others[0]),
                )
            )
    return out


def model_problems(table: RuleTable) -> list[Problem]:
    """Return the problems of every model: an undeclared vendor, or a name another model has."""
    out: list[Problem] = []
    for m in table.models.values():
        # Vendors are optional; once a table declares them, every model must name one of them.
        if table.vendors and m.vendor not in table.vendors:
            out.append(
                Problem(
                    "models",
                    m.id,
                    "vendor",
                    f"unknown vendor '{m.vendor}'"
                    f"{did_you_mean(m.vendor, table.vendors)}; "
                    "add it under vendors: or use a declared vendor id",
                    ("vendors", m.vendor),
                )
            )
    out += _model_name_clashes(table)
    return out
