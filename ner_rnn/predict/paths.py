"""What decoding finds, as arrays over the tokens of consecutive sentences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Paths:
    """What decoding found for consecutive sentences, as arrays over their tokens.

    Tags are label ids of the model. `log_probability` (with confidence) holds at the
    first token of each entity of the best path log P(that entity), NaN elsewhere. The
    `nbest_*` arrays are there when more than the best path was asked for.
    """

    tags: np.ndarray  # int (tokens,) the best path
    log_probability: np.ndarray | None = None  # float32 (tokens,)
    nbest_tags: np.ndarray | None = None  # int (k, tokens) the k best paths, best first
    nbest_valid: np.ndarray | None = None  # bool (sentences, k) False: no such path
    nbest_scores: np.ndarray | None = None  # float (sentences, k) score of each path
    log_z: np.ndarray | None = None  # float (sentences,) log-sum of all paths' scores

    def slice(self, sentences: slice, tokens: slice) -> Paths:
        """The sentences and tokens of the two slices."""
        def cut(column: np.ndarray | None, part: slice) -> np.ndarray | None:
            return None if column is None else column[part]

        return Paths(self.tags[tokens], cut(self.log_probability, tokens),
                     None if self.nbest_tags is None else self.nbest_tags[:, tokens],
                     cut(self.nbest_valid, sentences), cut(self.nbest_scores, sentences),
                     cut(self.log_z, sentences))
