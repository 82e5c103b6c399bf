"""A rule-based sentence splitter over the tokens of a raw line (see `tokenize`).

A sentence ends after a `.`, `!` or `?` token, with the marks and closing quotes or
brackets written right after it (`!?`, `."`, `.)`), when the next token starts with an
uppercase letter, a digit or an opening quote or bracket. It does not end:
  - after a period that belongs to an abbreviation of `ABBREVIATIONS` (`Mr. Smith`,
    `the U.S. Army`), nor after a single capital initial (`J. Smith`);
  - inside a token: the tokeniser keeps `3.5`, `U.S.` and titles such as `Mr.` whole,
    and a token that keeps its period never ends a sentence.
The splitter only chooses token boundaries, so every token's offsets stay those of the line.
"""

from __future__ import annotations

from collections.abc import Sequence

ABBREVIATIONS = (
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "Jr.", "Sr.",
    "Inc.", "Corp.", "Ltd.", "Co.", "vs.", "etc.", "e.g.", "i.e.",
    "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.",
    "Dec.", "U.S.", "U.K.", "No.",
)  # "May" is a whole word: "in May." ends a sentence

_ENDS = frozenset(".!?")
_CLOSING = frozenset("\"')]}\u201d\u2019\u00bb")  # ” ’ »
_OPENING = frozenset("\"'([{\u201c\u2018\u00ab")  # “ ‘ «
_ABBREVIATIONS = frozenset(ABBREVIATIONS)

Token = tuple[str, int, int]  # text, start and end character in the line


def sentence_ends(tokens: Sequence[Token]) -> list[int]:
    """Where each sentence of a line ends: token indices, end exclusive, the last one
    `len(tokens)` (so a line without tokens is one empty sentence)."""
    ends = []
    index = 0
    while index < len(tokens):
        if tokens[index][0] in _ENDS and not _abbreviated(tokens, index):
            stop = index + 1
            while stop < len(tokens) and _attached(tokens, stop) and (
                    tokens[stop][0] in _ENDS or tokens[stop][0] in _CLOSING):
                stop += 1
            if stop < len(tokens) and _starts_sentence(tokens[stop][0]):
                ends.append(stop)
            index = stop
        else:
            index += 1
    return [*ends, len(tokens)]


def _attached(tokens: Sequence[Token], index: int) -> bool:
    """Whether token `index` follows the one before it without a space."""
    return index > 0 and tokens[index - 1][2] == tokens[index][1]


def _abbreviated(tokens: Sequence[Token], index: int) -> bool:
    """Whether the `.` at `index` ends the word written right before it as an
    abbreviation or an initial (`Mr` `.` when the tokeniser split them, `J` `.`)."""
    if tokens[index][0] != "." or not _attached(tokens, index):
        return False
    word = tokens[index - 1][0]
    return word + "." in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _starts_sentence(token: str) -> bool:
    first = token[0]
    return first.isupper() or first.isdigit() or first in _OPENING
