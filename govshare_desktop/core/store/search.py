"""Finding people by a keystroke: name, full or partial ID number, pinyin initials.

Routing (each kind uses an index; none scans the table):

====================  =================================================================
query                 how
====================  =================================================================
18-char ID / 15-digit  exact match on the unique index of ``person.id_number``
3+ digits (ID part)    FTS5 trigram index ``person_id_fts`` (any position; 10+ digits: the
                       part after the region code, then checked whole — see :data:`REGION`)
1–2 digits             prefix range on ``person.id_number``
Chinese characters     FTS5 unicode61 index over the character-spaced name, phrase query:
                       finds 1- and 2-character names (王芳) that a trigram index cannot
Latin letters          prefix range on the pinyin initials index (``zsf`` → 张三丰)
nothing searchable     no one: ``%``, ``'``, ``_``, ``*``, spaces — punctuation never lists everybody
====================  =================================================================

On PostgreSQL (office mode) the same kinds use its indexes (migration 0011): an ID fragment is
``id_number LIKE '%…%'`` on a pg_trgm GIN index (the fragment is digits and X only, never ``%`` or
``_``), a name is the characters' array contained in a GIN index over ``name_chars`` split into its
characters, then ``strpos`` for their order — the FTS5 phrase's meaning, for 1- and 2-character
names too; the exact number and the two prefix ranges are the same statements.

An empty query means "no search" (the whole list); a query with nothing to search for finds no one,
and the window shows :data:`HINT`. No query is ever put into a LIKE pattern: text is a bound
parameter compared with ``=``, ranges or an FTS5 phrase (quotes doubled), so ``%`` and ``_`` are
never wildcards.

Functions return SQL fragments so the browse layer can combine search with village filters and
sorting in one statement (``person.id IN (<fragment>)``).

The first screenful without every hit (issue 20): a list shows its rows in its own order, and a
search that matches much of the township (「4」, 「4419」 — a region prefix every resident shares —,
「王」) would make the index above return hundreds of thousands of ids to be sorted before the
first row shows. So :func:`resolve` first asks the index for at most :data:`SMALL` ids
(:meth:`govshare_desktop.core.browse.Browser.resolve`):

* fewer: those ids *are* the result, exactly; the list sorts them (a few thousand rows at most);
* as many: the search is *broad* — the list walks its own sort index and checks each row with
  :func:`inline_sql` (a range on the row's own ``id_number``/``name_initials``, or the fragment's
  position in its ``id_number``/``name_chars``), which needs about ``page × persons ÷ hits`` rows
  per page: fewer than ``page × persons ÷ SMALL``. Same rows as the index finds (tested); the count
  of a broad search still comes from the index, beside the first rows, not before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.domain.text import squeeze

#: A search with fewer hits than this is answered from its index, one with more by walking the
#: list's sort index (:func:`resolve`). About √(page × persons at 200,000 households).
SMALL = 10_000

#: An ID number begins with the 6-digit code of its region (行政区划代码), which nearly every
#: resident of a township shares: the trigrams of those digits are in every row of the trigram
#: index, and a phrase query holding them walks the longest lists of it (~17–22 ms at 200,000
#: households for any fragment of 10 or more digits, where the rest of the phrase alone takes
#: 1.5–4 ms). A fragment of at least ``REGION + NARROWED`` characters is looked up by its part
#: after the first ``REGION`` characters, and the candidates are checked for the whole fragment
#: (``instr``): a number holding the fragment holds every part of it, so the persons found are the
#: same — only the candidates are more, a few per cent (tested).
REGION = 6
NARROWED = 4

#: The indexes migration 0011 makes on PostgreSQL for :meth:`PersonSearch.sql`.
SERVER_SEARCH_INDEXES = ("ix_person_id_number_trgm", "ix_person_name_chars")

#: What the search box says when the text has nothing to search for.
HINT = "请输入姓名、身份号码或拼音首字母"


class SearchKind(str, Enum):
    EMPTY = "empty"  # no text: no search, everybody
    NOTHING = "nothing"  # text without a searchable character: no one
    ID_EXACT = "id_exact"
    ID_FRAGMENT = "id_fragment"
    ID_PREFIX = "id_prefix"
    NAME = "name"
    INITIALS = "initials"


@dataclass(frozen=True)
class PersonSearch:
    kind: SearchKind
    text: str

    def sql(self, dialect: str = "sqlite") -> tuple[str, dict[str, object]]:
        """A ``SELECT id``-shaped SQL fragment over persons and its parameters, for the database
        ``dialect`` (SQLAlchemy's name: ``sqlite`` or ``postgresql``)."""
        kind, text = self.kind, self.text
        if dialect == "postgresql" and kind in (SearchKind.ID_FRAGMENT, SearchKind.NAME):
            return self._server_sql()
        if kind is SearchKind.ID_EXACT:
            return "SELECT id FROM person WHERE id_number = :q", {"q": text}
        if kind is SearchKind.ID_FRAGMENT:
            if len(text) >= REGION + NARROWED:  # see REGION: its trigrams are in every number
                return (
                    "SELECT id FROM person WHERE id IN (SELECT rowid FROM person_id_fts"
                    " WHERE person_id_fts MATCH :q) AND instr(upper(id_number), :whole) > 0",
                    {"q": _fts_phrase(text[REGION:]), "whole": text},
                )
            return (
                "SELECT rowid FROM person_id_fts WHERE person_id_fts MATCH :q",
                {"q": _fts_phrase(text)},
            )
        if kind is SearchKind.ID_PREFIX:
            return (
                "SELECT id FROM person WHERE id_number >= :lo AND id_number < :hi",
                {"lo": text, "hi": _prefix_upper(text)},
            )
        if kind is SearchKind.NAME:
            return (
                "SELECT rowid FROM person_name_fts WHERE person_name_fts MATCH :q",
                {"q": _fts_phrase(" ".join(text))},
            )
        if kind is SearchKind.INITIALS:
            return (
                "SELECT id FROM person WHERE name_initials >= :lo AND name_initials < :hi",
                {"lo": text, "hi": _prefix_upper(text)},
            )
        if kind is SearchKind.NOTHING:
            return "SELECT id FROM person WHERE 1 = 0", {}
        return "SELECT id FROM person", {}

    def _server_sql(self) -> tuple[str, dict[str, object]]:
        """PostgreSQL's statements for the two kinds SQLite answers with FTS5."""
        if self.kind is SearchKind.ID_FRAGMENT:  # digits and X only: no LIKE wildcard in it
            return "SELECT id FROM person WHERE id_number LIKE :q", {"q": f"%{self.text}%"}
        return (
            "SELECT id FROM person WHERE string_to_array(name_chars, ' ') @> CAST(:chars AS text[])"
            " AND strpos(name_chars, :q) > 0",
            {"chars": sorted(set(self.text)), "q": " ".join(self.text)},
        )


_DIGITS = re.compile(r"^\d+X?$")
_LETTERS = re.compile(r"^[a-z]+$")


def classify(raw: str) -> PersonSearch:
    """Decide how to search for what the clerk typed (full-width and spaces tolerated).

    ``""`` is no search at all (EMPTY); anything else without a letter, digit or CJK character
    — spaces, ``%``, ``'``, ``_``, ``*`` — is a search that finds no one (NOTHING)."""
    if not raw:
        return PersonSearch(SearchKind.EMPTY, "")
    # Only characters that can be in a name or a number count: punctuation the clerk typed or
    # pasted (``%``, ``-``, quotes) is dropped, never matched and never a wildcard.
    text = "".join(ch for ch in squeeze(raw) if ch.isalnum() or ch == "·")
    if not text.replace("·", ""):
        return PersonSearch(SearchKind.NOTHING, "")
    upper = text.upper()
    if _DIGITS.match(upper):
        if len(upper) in (15, 18):
            try:
                return PersonSearch(SearchKind.ID_EXACT, idnumber.validate(upper))
            except idnumber.IdNumberError:
                pass  # an invalid full number may still be a fragment of a stored one
        if len(upper) >= 3:
            return PersonSearch(SearchKind.ID_FRAGMENT, upper)
        return PersonSearch(SearchKind.ID_PREFIX, upper)
    lower = text.lower()
    if _LETTERS.match(lower):
        return PersonSearch(SearchKind.INITIALS, lower)
    # Names: keep only characters that can be in a name (drops punctuation the tokenizer ignores).
    name = "".join(ch for ch in text if ch.isalnum() or ch == "·")
    name = name.replace("·", "")
    return PersonSearch(SearchKind.NAME, name) if name else PersonSearch(SearchKind.NOTHING, "")


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _prefix_upper(prefix: str) -> str:
    """Smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class Resolved:
    """A search worked out against the database (:func:`resolve`): ``ids`` are every person it
    finds when they are fewer than :data:`SMALL`; ``None`` when it is broad."""

    search: PersonSearch
    ids: tuple[int, ...] | None

    @property
    def text(self) -> str:
        return self.search.text


def probe_sql(
    search: PersonSearch, dialect: str, limit: int = SMALL
) -> tuple[str, dict[str, object]]:
    """At most ``limit`` ids of the persons ``search`` finds, from its index."""
    fragment, params = search.sql(dialect)
    return f"SELECT * FROM ({fragment}) hits LIMIT {int(limit)}", params


def resolved(search: PersonSearch, ids: list[int], limit: int = SMALL) -> Resolved:
    """The :class:`Resolved` search for the ids :func:`probe_sql` returned."""
    return Resolved(search, tuple(sorted(ids)) if len(ids) < limit else None)


def inline_sql(search: PersonSearch, alias: str, dialect: str) -> tuple[str, dict[str, object]]:
    """The search as a condition on one person row ``alias`` (no index: checked row by row while
    a list walks its own sort index), finding the same persons as :meth:`PersonSearch.sql`."""
    kind, text = search.kind, search.text
    plus = "+" if dialect == "sqlite" else ""  # SQLite: keep this term off the indexes
    find = "instr" if dialect == "sqlite" else "strpos"
    if kind is SearchKind.ID_EXACT:
        return f"{plus}{alias}.id_number = :sq", {"sq": text}
    if kind in (SearchKind.ID_PREFIX, SearchKind.INITIALS):
        column = f"{plus}{alias}.{'id_number' if kind is SearchKind.ID_PREFIX else 'name_initials'}"
        return f"{column} >= :sq_lo AND {column} < :sq_hi", {
            "sq_lo": text,
            "sq_hi": _prefix_upper(text),
        }
    if kind is SearchKind.ID_FRAGMENT:  # the trigram index is case-insensitive: x is X
        return f"{find}(upper({alias}.id_number), :sq) > 0", {"sq": text}
    if kind is SearchKind.NAME:  # FTS5's phrase: these characters next to one another (a 「·」
        # is no character to FTS5's unicode61, and it folds the case of Latin letters)
        spaced = f"lower(replace({alias}.name_chars, ' · ', ' '))"
        return f"{find}({spaced}, :sq) > 0", {"sq": " ".join(text).lower()}
    if kind is SearchKind.NOTHING:
        return "1 = 0", {}
    return "1 = 1", {}
