"""A rule-based tokeniser close to CoNLL-2003 / Penn Treebank tokenisation, with offsets.

Rules, tried in this order at each position:
  1. abbreviations with inner periods stay whole: `U.S.`, `e.g.`, `U.K.`;
  2. common titles and abbreviations keep their period: `Mr.`, `Dr.`, `Inc.`, `Jan.`;
  3. numbers stay whole: `1,000.5`, `3.5`, `12:30`, `1/2`, `2-1`;
  4. `n't` and the clitics `'s 're 've 'll 'd 'm` are split off: `don't` -> `do n't`;
  5. words stay whole with inner hyphens, apostrophes and ampersands:
     `state-of-the-art`, `O'Neill`, `AT&T` (but `U.S.-based` is `U.S.` `-` `based`);
  6. `...` and `--` are one token; any other symbol is a token of its own.
In-word marks never start a token of their own: combining marks (Unicode categories Mn,
Mc, Me: Devanagari vowel signs, Arabic harakat, Hebrew niqqud, Thai vowels), ZWJ and
ZWNJ, variation selectors, emoji skin-tone modifiers and tag characters stay with what
precedes them, and an emoji ZWJ sequence (a family) or a flag is one token.
Offsets are character positions in the input string, end exclusive, so
`text[start:end] == token` always holds.
"""

from __future__ import annotations

import re
import unicodedata

_TITLES = (
    "Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|Rev|Inc|Corp|Ltd|Co|Bros"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|No|vs|etc|approx"
)


def _mark_class() -> str:
    """A regex class body of the in-word marks: categories Mn, Mc, Me, ZWNJ and ZWJ,
    variation selectors, emoji modifiers and tag characters (the planes that hold
    marks are scanned once, at import)."""
    marks = [c for c in range(0x20000) if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")]
    marks += [0x200C, 0x200D, *range(0xFE00, 0xFE10), *range(0x1F3FB, 0x1F400),
              *range(0xE0020, 0xE0080), *range(0xE0100, 0xE01F0)]
    ranges: list[list[int]] = []
    for code in sorted(set(marks)):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "")
                   for a, b in ranges)


_MARKS = _mark_class()
_MARK = f"[{_MARKS}]"
_WORD = rf"[\w{_MARKS}]"  # word characters, in-word marks included
_FLAG = "[\U0001F1E6-\U0001F1FF]{2}"  # two regional indicators: one flag
_CLITIC = rf"'(?:s|re|ve|ll|d|m)(?!{_WORD})"
_TOKEN = re.compile(
    rf"""
    (?:
      (?:[A-Za-z]\.){{2,}}                                 # U.S.  e.g.
    | (?:{_TITLES})\.(?!{_WORD})                           # Mr.  Inc.
    | \d+(?:[.,:/-]\d+)*                                   # 1,000.5  12:30  2-1
    | {_WORD}+(?=n't(?!{_WORD}))                           # do  (of don't)
    | n't(?!{_WORD})
    | (?i:{_CLITIC})                                       # 's  're
    | {_WORD}+(?:(?:[-&]|'(?!(?i:s|re|ve|ll|d|m)(?!{_WORD}))){_WORD}+)*   # state-of-the-art
    | \.{{2,}} | -{{2,}}
    | {_FLAG}                                              # a flag
    | \S(?:{_MARK}*\u200d\S)*                               # a symbol, an emoji ZWJ sequence
    ){_MARK}*                                              # marks after it: 1️⃣  👍🏽
    """,
    re.VERBOSE,
)
_WHITESPACE_TOKEN = re.compile(r"\S+")
_COLUMN_TOKEN = re.compile(r"[^ \t]+")  # pretokenised text: tokens are CoNLL columns
_TITLE_WORDS = frozenset(_TITLES.split("|"))
_OPENING = frozenset('(["')  # not an apostrophe: 's and 'm are clitics
_CLOSING = frozenset(',;:!?)]"\'.')


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Split raw text into `(token, start, end)` triples by the rules above.

    Most whitespace-separated words are letters only or digits only, perhaps with one
    bracket or quote before and one punctuation mark after (`(1996),` is not one of
    them, `"Paris,` is): the rules split those at the marks alone (`Mr.` stays whole),
    so they skip the regular expression, a large speed-up.
    """
    tokens = []
    for chunk in _WHITESPACE_TOKEN.finditer(text):
        word, offset = chunk.group(), chunk.start()
        first, last = word[0] in _OPENING, word[-1] in _CLOSING
        core = word[first:len(word) - last] if len(word) > 1 else word
        if core.isalpha() or core.isdecimal():
            if last and word[-1] == "." and core in _TITLE_WORDS:  # Mr.
                core, last = core + ".", False
            if first:
                tokens.append((word[0], offset, offset + 1))
            tokens.append((core, offset + first, offset + first + len(core)))
            if last:
                tokens.append((word[-1], offset + len(word) - 1, offset + len(word)))
        elif len(word) == 1:
            tokens.append((word, offset, offset + 1))
        else:
            tokens += [(m.group(), offset + m.start(), offset + m.end())
                       for m in _TOKEN.finditer(word)]
    return tokens


def tokenize_by_rules(text: str) -> list[tuple[str, int, int]]:
    """`tokenize` without the fast path: the rules applied to the whole text."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def split_whitespace(text: str) -> list[tuple[str, int, int]]:
    """Split pre-tokenised text on ASCII spaces and tabs only (as CoNLL columns are:
    a no-break space stays inside its token), with offsets."""
    return [(m.group(), m.start(), m.end()) for m in _COLUMN_TOKEN.finditer(text)]
