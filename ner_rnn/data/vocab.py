"""Vocabularies for words, characters and labels, built from training data only."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

PAD = "<pad>"  # id 0 in word and character vocabularies
UNK = "<unk>"  # id 1: anything not seen (often enough) in training
_DIGIT = re.compile(r"\d")

TOKEN_CACHE_SIZE = 500_000  # distinct tokens remembered by Vocabularies.token_ids

# Casing classes of a token (id 0 is padding): a tiny fixed vocabulary that tells the
# model what lowercasing and digit normalisation take away.
CASINGS = ("<pad>", "numeric", "has_digit", "lower", "upper", "title", "mixed", "other")


def casing(token: str) -> int:
    """The casing class id of a token, an index into CASINGS."""
    if token.isdigit():
        return 1
    if any(c.isdigit() for c in token):
        return 2
    if token.islower():
        return 3
    if token.isupper():
        return 4
    if token.istitle():
        return 5
    if any(c.isalpha() for c in token):
        return 6
    return 7


class Vocabulary:
    """A fixed list of items with their ids; unknown items map to UNK when it exists."""

    def __init__(self, items: list[str]):
        self.items = list(items)
        self.index = {item: i for i, item in enumerate(self.items)}
        self.unk_id = self.index.get(UNK)

    @classmethod
    def build(cls, counts: Counter, min_freq: int = 1, specials: tuple = (PAD, UNK)):
        """Specials first, then items seen at least `min_freq` times, most frequent first."""
        kept = sorted((c for c in counts if counts[c] >= min_freq and c not in specials),
                      key=lambda item: (-counts[item], item))
        return cls([*specials, *kept])

    def extend(self, items: Iterable[str]) -> None:
        """Append items not yet in the vocabulary, in the given order."""
        for item in items:
            if item not in self.index:
                self.index[item] = len(self.items)
                self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self.index

    def id(self, item: str) -> int:
        found = self.index.get(item, self.unk_id)
        if found is None:
            raise KeyError(item)
        return found

    def ids(self, items: Iterable[str]) -> list[int]:
        get, unk = self.index.get, self.unk_id
        return [get(item, unk) for item in items]


@dataclass
class Vocabularies:
    """Everything the model needs to turn tokens and tags into ids, and back."""

    words: Vocabulary
    chars: Vocabulary
    labels: Vocabulary  # sorted tag strings of the model's scheme; no specials
    lowercase: bool = False
    normalize_digits: bool = True
    # token -> (word id, casing id, char ids): tokens repeat, so each is worked out once
    _token_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, sentences_tokens: Iterable[list[str]], sentences_tags: Iterable[list[str]],
              min_freq: int = 1, lowercase: bool = False, normalize_digits: bool = True):
        """Count training tokens and tags; `min_freq` applies to normalised words."""
        vocabs = cls(Vocabulary([]), Vocabulary([]), Vocabulary([]), lowercase, normalize_digits)
        words, chars = Counter(), Counter()
        for tokens in sentences_tokens:
            words.update(vocabs.normalize(token) for token in tokens)
            for token in tokens:
                chars.update(token)
        labels = sorted({tag for tags in sentences_tags for tag in tags})
        vocabs.words = Vocabulary.build(words, min_freq)
        vocabs.chars = Vocabulary.build(chars)
        vocabs.labels = Vocabulary(labels)
        return vocabs

    def normalize(self, token: str) -> str:
        """The form under which a token is looked up in the word vocabulary."""
        if self.lowercase:
            token = token.lower()
        if self.normalize_digits:
            token = _DIGIT.sub("0", token)
        return token

    def token_ids(self, token: str, max_chars: int) -> tuple[int, int, list[int]]:
        """(word id, casing id, ids of its first `max_chars` characters), cached."""
        key = (token, max_chars)
        found = self._token_cache.get(key)
        if found is None:
            if len(self._token_cache) >= TOKEN_CACHE_SIZE:
                self._token_cache.clear()
            found = (self.words.id(self.normalize(token)), casing(token),
                     self.chars.ids(token[:max_chars]))
            self._token_cache[key] = found
        return found

    def __getstate__(self) -> dict:
        """Pickled without the token cache: another process fills its own."""
        return {**self.__dict__, "_token_cache": {}}

    def extend_words(self, words: Iterable[str]) -> None:
        """Add words to the word vocabulary (keeps the token cache consistent)."""
        self.words.extend(words)
        self._token_cache.clear()

    def to_json(self) -> dict:
        return {
            "words": self.words.items,
            "chars": self.chars.items,
            "labels": self.labels.items,
            "lowercase": self.lowercase,
            "normalize_digits": self.normalize_digits,
        }

    @classmethod
    def from_json(cls, data: dict):
        """The vocabularies `to_json` wrote; a ValueError says what a damaged or hand-made
        one lacks (padding and unknown first, each item once, flags as booleans)."""
        for key in ("words", "chars"):
            if data[key][:2] != [PAD, UNK]:
                raise ValueError(f"{key}: expected {PAD!r} and {UNK!r} first (ids 0 and 1), "
                                 f"got {data[key][:2]}")
        for key in ("words", "chars", "labels"):
            seen = set()
            for item in data[key]:
                if item in seen:
                    raise ValueError(f"{key}: {item!r} appears twice")
                seen.add(item)
        for key in ("lowercase", "normalize_digits"):
            if not isinstance(data[key], bool):
                raise ValueError(f"{key}: expected true or false, got {data[key]!r}")  # noqa: TRY004
        return cls(Vocabulary(data["words"]), Vocabulary(data["chars"]),
                   Vocabulary(data["labels"]), data["lowercase"], data["normalize_digits"])
