"""Where the 一表通 forms come from: the dictionary and templates shipped in ``resources/forms``,
and what was installed later and kept in the database — templates, versioned (``form_template``),
and dictionary additions (``form_elements``), from a county report task or by the 系统管理员 from
a file. Forms are delivered as data: nothing here needs a new program.

A template id may have several versions (``version = "2027.1"`` in its file; a built-in template
without one has the built-in version, shown as 「内置」, older than every numbered one). Each
stored version applies from its ``effective_from`` period on (empty: every period). A form is
filled with the newest version in effect for its period; once submitted it keeps that version
(``FormStatus.template_version``), whatever is installed later. :class:`TemplateSet` answers both
questions; as a mapping it gives the newest version of each id, as before.

A dictionary addition may only add codes: a code already defined differently is refused (一表通:
every item is defined once). Installing is inside the caller's transaction
(:func:`install_template`, :func:`install_elements`), so a report-task package installs its forms
and the rest of its contents together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import (
    Element,
    FormsError,
    load_dictionary,
    parse_elements,
    toml_text,
)
from govshare_desktop.core.forms.templates import (
    BUILT_IN,
    BUILT_IN_LABEL,
    Template,
    check_version,
    load_templates,
    parse_template,
    version_key,
)
from govshare_desktop.core.resources import resource_path
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import StoredElements, StoredTemplate

__all__ = [
    "BUILT_IN",
    "BUILT_IN_LABEL",
    "ORIGINS",
    "ORIGIN_BUILT_IN",
    "ORIGIN_FILE",
    "ORIGIN_PACKAGE",
    "FormCatalog",
    "Installed",
    "TemplateSet",
    "check_template_text",
    "check_version",
    "install_elements",
    "install_template",
    "load_catalog",
    "read_form_file",
    "version_key",
]

ORIGIN_BUILT_IN, ORIGIN_PACKAGE, ORIGIN_FILE = "builtin", "package", "file"
ORIGINS = {ORIGIN_BUILT_IN: "内置", ORIGIN_PACKAGE: "县级报表任务", ORIGIN_FILE: "文件安装"}


@dataclass(frozen=True)
class Installed:
    """One version of a template as this computer has it: where it came from and from which
    period it applies (``None``: every period)."""

    template: Template
    origin: str = ORIGIN_BUILT_IN  # builtin | package | file
    effective_from: Period | None = None
    package_id: str | None = None
    installed_by: str = ""
    installed_at: datetime | None = None

    @property
    def version(self) -> str:
        return self.template.version

    @property
    def version_label(self) -> str:
        if not self.version and self.origin != ORIGIN_BUILT_IN:
            return "无版本号"
        return self.template.version_label

    def in_effect(self, period: Period) -> bool:
        return self.effective_from is None or self.effective_from.start <= period.start


class TemplateSet(Mapping[str, Template]):
    """Every installed version of every template. As a mapping: ``id`` → its newest version
    (built-in ids first, in file order, then installed ones in the order they came)."""

    def __init__(self, installed: Iterable[Installed] = ()) -> None:
        self._by_id: dict[str, list[Installed]] = {}
        for entry in installed:
            versions = self._by_id.setdefault(entry.template.id, [])
            # The same version built in and stored: the stored one is what forms were filled with.
            versions[:] = [v for v in versions if v.version != entry.version]
            versions.append(entry)
            versions.sort(key=lambda v: version_key(v.version))

    @classmethod
    def built_in(cls, templates: Mapping[str, Template]) -> TemplateSet:
        """The shipped templates only (what ``load_templates`` gives)."""
        return cls(Installed(t) for t in templates.values())

    def __getitem__(self, template_id: str) -> Template:
        return self._by_id[template_id][-1].template

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def versions(self, template_id: str) -> tuple[Template, ...]:
        """Every version of ``template_id``, oldest first (none for an unknown id)."""
        return tuple(v.template for v in self._by_id.get(template_id, ()))

    def installed(self, template_id: str) -> tuple[Installed, ...]:
        """Every version of ``template_id`` with where it came from, oldest first."""
        return tuple(self._by_id.get(template_id, ()))

    def for_period(self, template_id: str, period: Period, pinned: str | None = None) -> Template:
        """The version a form of ``period`` is filled with: ``pinned`` — the version a submitted
        form was filled with — if given, else the newest version in effect for the period."""
        versions = self._by_id.get(template_id)
        if not versions:
            raise UserError(f"没有报表模板“{template_id}”")
        if pinned is not None:
            for entry in versions:
                if entry.version == pinned:
                    return entry.template
            shown = pinned or BUILT_IN_LABEL
            raise UserError(
                f"“{versions[-1].template.title}”{period.label}的报表按模板版本 {shown} 填报上报，"
                f"本机已没有该版本（现有：{'、'.join(v.version_label for v in versions)}），"
                "请系统管理员重新安装该版本"
            )
        in_effect = [entry for entry in versions if entry.in_effect(period)]
        if in_effect:
            return in_effect[-1].template
        # None is in effect for every period: here each version has a first period.
        first = min((v.effective_from for v in versions if v.effective_from), key=_start)
        raise UserError(
            f"报表模板“{versions[-1].template.title}”在 {period} 期尚未生效（自 {first} 期起适用）"
        )

    def in_effect(self, period: Period) -> dict[str, Template]:
        """The newest version in effect for ``period`` of each template that has one."""
        out: dict[str, Template] = {}
        for template_id, versions in self._by_id.items():
            found = [entry for entry in versions if entry.in_effect(period)]
            if found:
                out[template_id] = found[-1].template
        return out


def _start(period: Period) -> date:
    return period.start


@dataclass
class FormCatalog:
    """The dictionary (shipped and added), every template version, and what could not be read."""

    dictionary: dict[str, Element]
    templates: TemplateSet
    problems: list[FormsError] = field(default_factory=list)


def load_catalog(store_or_session: Store | Session) -> FormCatalog:
    """The built-in dictionary with every stored addition (in the order installed), and the
    built-in templates with every stored version. A stored text that no longer reads — it was
    checked when installed, so this should not happen — is a problem, not a crash. A broken
    built-in dictionary is a :class:`FormsError` (the forms are then unavailable).

    Given a session, it reads inside it (an installation's own transaction sees what it added)."""
    if isinstance(store_or_session, Session):
        return _load(store_or_session)
    with store_or_session.sessions() as session:
        return _load(session)


def _load(session: Session) -> FormCatalog:
    dictionary = load_dictionary()
    problems: list[FormsError] = []
    for row in session.scalars(select(StoredElements).order_by(StoredElements.id)):
        try:
            added = parse_elements(toml_text(row.source, row.file_name), row.file_name)
        except FormsError as exc:
            problems.append(FormsError(f"已安装的数据项字典 {row.file_name} 已不能使用：{exc}"))
            continue
        for code, element in added.items():
            known = dictionary.setdefault(code, element)
            if known != element:
                problems.append(_redefined(row.file_name, known))
    built, shipped_problems = load_templates(dictionary)
    problems += shipped_problems
    entries = [Installed(t) for t in built.values()]
    for stored in session.scalars(select(StoredTemplate).order_by(StoredTemplate.id)):
        try:
            entries.append(_installed(stored, dictionary))
        except (FormsError, ValueError) as exc:
            problems.append(
                FormsError(
                    f"已安装的报表模板 {stored.file_name}（版本 {stored.version or '无'}）"
                    f"已不能使用：{exc}"
                )
            )
    return FormCatalog(dictionary, TemplateSet(entries), problems)


def _installed(row: StoredTemplate, dictionary: Mapping[str, Element]) -> Installed:
    template = parse_template(toml_text(row.source, row.file_name), row.file_name, dictionary)
    if (template.id, template.version) != (row.template_id, row.version):
        raise FormsError(
            f"文件中的 id 和 version 与安装记录（{row.template_id} {row.version}）不符"
        )
    return Installed(
        template,
        row.origin,
        Period.parse(row.effective_from) if row.effective_from else None,
        row.package_id,
        row.installed_by,
        row.installed_at,
    )


# ---------------------------------------------------------------- checking and installing


def read_form_file(path: Path) -> str:
    """A template or dictionary file's text (UTF-8), or a :class:`FormsError` naming it."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise FormsError(f"找不到文件 {path}") from None
    except IsADirectoryError:
        raise FormsError(f"{path} 是文件夹，请选择 .toml 文件") from None
    except UnicodeDecodeError:
        raise FormsError(f"文件 {path.name} 不是 UTF-8 编码的文字（请用 UTF-8 保存）") from None


def check_template_text(text: str, file_name: str, dictionary: Mapping[str, Element]) -> Template:
    """A template file's text checked exactly as ``govshare forms check`` does: a TOML error
    names the file, line and column; a problem names the file and the field."""
    return parse_template(toml_text(text, file_name), file_name, dictionary)


def install_template(
    session: Session,
    text: str,
    file_name: str,
    *,
    dictionary: Mapping[str, Element],
    origin: str,
    package_id: str | None,
    effective_from: str,
    user: str,
    now: datetime,
) -> StoredTemplate | None:
    """Keep a template file as a new version, inside the caller's transaction: the new row, or
    ``None`` when exactly this text is already installed (a package imported again).

    ``origin``: ``package`` (a county report task, ``package_id``) or ``file`` (the 系统管理员);
    ``effective_from``: the first period it applies to, or "" for every period. Refused — with the
    file and the field named — when it does not check, when an id this computer has already comes
    without a version, or with a version older than the newest one here (or equal to it with
    other text)."""
    if origin not in (ORIGIN_PACKAGE, ORIGIN_FILE):
        raise ValueError(f"origin must be package or file, not {origin!r}")
    template = check_template_text(text, file_name, dictionary)
    start = _effective_from(effective_from, file_name)
    stored = list(
        session.scalars(select(StoredTemplate).where(StoredTemplate.template_id == template.id))
    )
    if any(row.version == template.version and row.source == text for row in stored):
        return None
    known = [row.version for row in stored]
    shipped = load_templates(dictionary)[0].get(template.id)
    if shipped is not None:
        if shipped.version == template.version and _shipped_text(shipped) == text:
            return None
        known.append(shipped.version)
    _check_newer(template, file_name, known)
    row = StoredTemplate(
        template_id=template.id,
        version=template.version,
        effective_from=str(start) if start else "",
        file_name=file_name,
        source=text,
        origin=origin,
        package_id=package_id,
        installed_by=user,
        installed_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _effective_from(text: str, file_name: str) -> Period | None:
    if not text:
        return None
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise FormsError(f"报表模板 {file_name} 的起用统计期无效：{exc}") from None


def _shipped_text(template: Template) -> str | None:
    try:
        return resource_path("forms", "templates", template.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _check_newer(template: Template, file_name: str, known: list[str]) -> None:
    """A new version of a template this computer has must be newer than every version here."""
    if not known:
        return
    if not template.version:
        raise FormsError(
            f"报表模板 {file_name} 的 id“{template.id}”本机已有（“{template.title}”），"
            '作为新版本安装须写明字段“version”（如 version = "2027.1"）'
        )
    newest = max(known, key=version_key)
    shown = newest or BUILT_IN_LABEL
    if version_key(template.version) < version_key(newest):
        raise FormsError(
            f"报表模板 {file_name} 的版本 {template.version} 早于本机已有的 {shown}，不能安装"
        )
    if template.version in known:
        raise FormsError(
            f"报表模板 {file_name} 的版本 {template.version} 本机已有，内容却不同，不能安装"
            "（修改过的模板须用更高的版本号）"
        )


def install_elements(
    session: Session,
    text: str,
    file_name: str,
    *,
    dictionary: Mapping[str, Element],
    package_id: str | None,
    user: str,
    now: datetime,
) -> list[str]:
    """Add a dictionary file's new data elements, inside the caller's transaction; the codes
    added (none: nothing new, nothing stored). A code ``dictionary`` already has must be defined
    exactly as there; otherwise the whole file is refused, naming the code and the file.

    ``load_catalog(session)`` afterwards gives the dictionary with the new codes (for the
    templates that use them)."""
    added = parse_elements(toml_text(text, file_name), file_name)
    for code, element in added.items():
        known = dictionary.get(code)
        if known is not None and known != element:
            raise _redefined(file_name, known)
    new = [code for code in added if code not in dictionary]
    if new:
        session.add(
            StoredElements(
                file_name=file_name,
                source=text,
                package_id=package_id,
                installed_by=user,
                installed_at=now,
            )
        )
        session.flush()
    return new


def _redefined(file_name: str, known: Element) -> FormsError:
    return FormsError(
        f"数据项字典 {file_name} 中的数据项 {known.code} 与本机已有的“{known.name}”定义不同："
        "一表通中每个数据项只能定义一次，不能重新定义"
    )
