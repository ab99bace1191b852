"""Rules the engine derives from the model catalog, so that no table can leave them out."""

from __future__ import annotations

from bot.domain.rules.conditions import ModelSelector
from bot.domain.rules.entities import ModelInfo
from bot.domain.rules.table import Rule, RuleTable

CLOSED_WEIGHTS = "closed-weights"


def closed_weights_rule(model: ModelInfo, table: RuleTable) -> Rule:
    """Return the deny rule for the weights of a closed-weight model, worded from the catalog."""
    vendor = table.vendors.get(model.vendor)
    maker = vendor.name if vendor is not None else model.vendor
    return Rule(
        CLOSED_WEIGHTS,
        "deny",
        f"Closed-weight model: {maker} does not release its weights",
        models=ModelSelector(ids=(model.id,)),
        access=("weights",),
        citation=f"Clearance model catalog: {model.name} ({model.id}) has open_weights: false",
        explanation=(
            f"{model.name} is a closed-weight model: {maker} offers it as a service and does not "
            "hand out its weights, so no rule can allow weights access."
        ),
    )


def catalog_rules(table: RuleTable) -> list[Rule]:
    """Return the rules built from the catalog: one closed-weights denial per closed model."""
    return [closed_weights_rule(m, table) for m in table.models.values() if not m.open_weights]
