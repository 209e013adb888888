"""Cross-department checks (比对核查) as data: one TOML file per check in ``resources/checks/``.

    id = "deceased_still_paid"
    title = "死亡注销后仍领取养老金"
    department = "人社"
    explanation = "公安已注销户籍（死亡），此后仍有养老金发放记录。"
    datasets = ["person", "ss_payment"]
    condition = 'STATUS == "deceased" and PENSION_LAST_MONTH > STATUS_MONTH'
    severity = "error"          # error: money may be paid wrongly; warning: worth a look
    action = "请村（社区）核实死亡情况，属实的报人社部门停发并追回。"

The condition is written in the rule language of the report templates over the facts of
:mod:`.facts` and runs as SQL (:mod:`.sql`). A broken check names its file and field, as a broken
template does; the others still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govshare_desktop.core.checks.facts import FACTS
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import FormsError, load_toml
from govshare_desktop.core.forms.expr import Expression, ExpressionError, parse
from govshare_desktop.core.resources import resource_path

SEVERITIES = {"error": "错误", "warning": "提示"}
DATASETS = (
    "person",
    "household",
    "ss_enrollment",
    "ss_payment",
    "assistance",
    "allowance_payment",
    "medical_enrollment",
    "cremation",
    "death_certificate",
    "disability_card",
)


class CheckError(UserError):
    """A check file that cannot be used, with its file and field named."""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    department: str
    explanation: str
    datasets: tuple[str, ...]  # must have been imported before the check runs
    condition: Expression
    severity: str
    action: str
    file: str
    also: tuple[str, ...] = ()  # read when there, unknown (null) when not imported

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(sorted(self.condition.names))


def parse_check(document: Mapping[str, Any], file_name: str) -> Check:
    def text(key: str) -> str:
        value = document.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CheckError(f"核查规则 {file_name} 缺少字段“{key}”（应为文字）")
        return value.strip()

    unknown = sorted(set(document) - (set(Check.__dataclass_fields__) - {"file"}))
    also = document.get("also", [])
    if not isinstance(also, list) or not all(d in DATASETS for d in also):
        raise CheckError(
            f"核查规则 {file_name} 的 also 应为数据集列表（可用：{'、'.join(DATASETS)}）"
        )
    if unknown:
        raise CheckError(f"核查规则 {file_name} 有未知字段“{unknown[0]}”")
    datasets = document.get("datasets")
    if not isinstance(datasets, list) or not datasets or not all(d in DATASETS for d in datasets):
        raise CheckError(
            f"核查规则 {file_name} 的 datasets 应为数据集列表（可用：{'、'.join(DATASETS)}）"
        )
    severity = text("severity")
    if severity not in SEVERITIES:
        raise CheckError(f"核查规则 {file_name} 的 severity 应为 error 或 warning")
    try:
        condition = parse(text("condition"))
    except ExpressionError as exc:
        raise CheckError(f"核查规则 {file_name} 的 condition 有误：{exc}") from exc
    for name in sorted(condition.names):
        fact = FACTS.get(name)
        if fact is None:
            raise CheckError(
                f"核查规则 {file_name} 的 condition 用了未知的事实“{name}”"
                f"（可用：{'、'.join(FACTS)}）"
            )
        missing = [d for d in fact.datasets if d not in datasets and d not in also]
        if missing:
            raise CheckError(
                f"核查规则 {file_name}：事实 {name} 来自数据集 {missing[0]}，须写入 datasets"
            )
    return Check(
        id=text("id"),
        title=text("title"),
        department=text("department"),
        explanation=text("explanation"),
        datasets=tuple(datasets),
        condition=condition,
        severity=severity,
        action=text("action"),
        file=file_name,
        also=tuple(also),
    )


def load_checks(directory: Path | None = None) -> tuple[dict[str, Check], list[UserError]]:
    """Every valid check, and an error for each file that is not."""
    directory = directory or resource_path("checks")
    checks: dict[str, Check] = {}
    problems: list[UserError] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            check = parse_check(load_toml(path), path.name)
            if check.id in checks:
                raise CheckError(
                    f"核查规则 {path.name} 的 id“{check.id}”与 {checks[check.id].file} 重复"
                )
            checks[check.id] = check
        except (CheckError, FormsError) as exc:
            problems.append(exc)
    return checks, problems
