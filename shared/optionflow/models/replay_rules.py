"""The rules file of a replay: other risk limits and exit rules to try on the alerts really received.

```yaml
risk_limits: {max_open_positions: 10, risk_per_trade: 250}
exit_rules: {stop_loss_pct: 20, trailing_stop_pct: null}
strategy_settings: {default: {max_heat_pct: 6}, SPY: {mtf_on: true, mtf_timeframes: [15m, 1h]}}
```

Keys are the columns of the `risk_limits` and `exit_rules` tables, validated by the same models as the admin
API's changes (models/trading_settings.py), so a file the replay accepts holds values the database accepts.
A key left out keeps the value in the real database; an exit rule set to null is switched off. Unlike the
API, a file may set `risk_limits.kill_switch`: a replay of last week need not inherit today's emergency stop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from optionflow.models.strategy_settings import StrategySettingsPatch
from optionflow.models.trading_settings import ExitRulesPatch, RiskLimitsPatch


class RulesFileError(ValueError):
    """The rules file cannot be read or a value in it is wrong; the message names the file and the key."""


class ReplayRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    risk_limits: RiskLimitsPatch | None = None
    exit_rules: ExitRulesPatch | None = None
    kill_switch: StrictBool | None = None  # read from risk_limits.kill_switch, see parse_rules
    # per row: `default` or a ticker, as PATCH /strategy-settings/{name} takes them
    strategy_settings: dict[str, StrategySettingsPatch] | None = None

    def risk_limit_changes(self) -> dict[str, Any]:
        """Only the limits the file sets (money in dollars)."""
        changes = self.risk_limits.changes() if self.risk_limits else {}
        if self.kill_switch is not None:
            changes["kill_switch"] = self.kill_switch
        return changes

    def strategy_changes(self) -> dict[str, dict[str, Any]]:
        """{row name: the strategy settings the file sets on it}."""
        return {name: patch.changes() for name, patch in (self.strategy_settings or {}).items()}

    def exit_rule_changes(self) -> dict[str, Any]:
        """Only the rules the file sets (percent of the entry price; None: switched off)."""
        return self.exit_rules.changes() if self.exit_rules else {}


def parse_rules(text: str, *, source: str, yaml_syntax: bool) -> ReplayRules:
    """Read a rules document (JSON, or YAML when `yaml_syntax`). Raises RulesFileError naming the key."""
    document: Any
    if yaml_syntax:
        import yaml  # installed with the local stack, not in the Lambda layer: replay is command-line only

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RulesFileError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    else:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise RulesFileError(f"{source}: not valid JSON ({exc})") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise RulesFileError(
            f"{source}: must be a mapping with risk_limits, exit_rules and/or strategy_settings"
        )
    document = dict(document)
    if "kill_switch" in document:
        raise RulesFileError(f"{source}: kill_switch: is not a known key (it belongs under risk_limits)")
    limits = document.get("risk_limits")
    if isinstance(limits, dict) and "kill_switch" in limits:
        # the API's patch refuses the kill switch (it has its own route, with a reason); a replay may set it
        limits = dict(limits)
        document["kill_switch"] = limits.pop("kill_switch")
        document["risk_limits"] = limits or None
    try:
        return ReplayRules.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ["risk_limits", "kill_switch"] if error["loc"][:1] == ("kill_switch",) else list(error["loc"])
        field = ".".join(str(part) for part in loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a known key"
        raise RulesFileError(f"{source}: {field}: {message}") from None


def load_rules(path: Path) -> ReplayRules:
    """Read a rules file; `.yaml`/`.yml` are YAML, anything else JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesFileError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RulesFileError(f"{path}: is not UTF-8 text") from None
    return parse_rules(text, source=str(path), yaml_syntax=path.suffix.lower() in (".yaml", ".yml"))
