"""Finding people by a keystroke: name, full or partial ID number, pinyin initials.

Routing (each kind uses an index; none scans the table):

====================  =================================================================
query                 how
====================  =================================================================
18-char ID / 15-digit  exact match on the unique index of ``person.id_number``
3+ digits (ID part)    FTS5 trigram index ``person_id_fts`` (any position)
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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.domain.text import squeeze

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
