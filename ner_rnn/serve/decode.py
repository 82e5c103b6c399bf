"""Decoding one batch for tagging: the best path, and on request the k best paths with
their probabilities and each entity's probability (forward-backward)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ner_rnn.data.batching import Batch
from ner_rnn.data.schemes import spans
from ner_rnn.model.decoding import NEG_INF, kbest, log_partition, marginals, span_log_probability
from ner_rnn.model.network import TaggerNetwork, best_paths


@dataclass
class Decoded:
    """One sentence's decoding, tags in the model's scheme."""

    tags: list[str]
    alternatives: list[tuple[list[str], float]] = field(default_factory=list)  # k-best
    confidence: dict | None = None  # entity span -> probability


def decode_batch(network: TaggerNetwork, batch: Batch, labels: list[str], scheme: str,
                 nbest: int = 1, confidence: bool = False) -> list[Decoded]:
    """Decode every sentence of `batch`; `labels` are the model's tags in id order and
    `scheme` the model's scheme (for entity spans)."""
    sentences = batch.sentences
    p = network.potentials(batch)
    best = best_paths(network.head, p, batch)
    decoded = [Decoded([labels[i] for i in ids]) for ids in best]
    if nbest > 1:
        paths, scores = kbest(p, sentences.mask, nbest)  # (batch, k, time), (batch, k)
        log_z = log_partition(p, sentences.mask)  # (batch,)
        for row, item in enumerate(decoded):
            length = sentences.lengths[row].item()
            item.alternatives = [
                ([labels[i] for i in path[:length]], math.exp(score - log_z[row].item()))
                for path, score in zip(paths[row].tolist(), scores[row].tolist())
                if score > NEG_INF / 2]  # lower: a forbidden transition or no such path
    if confidence:
        alpha, beta, log_z = marginals(p, sentences.mask, sentences.lengths)
        for row, (item, ids) in enumerate(zip(decoded, best)):
            item.confidence = {
                span: math.exp(span_log_probability(p, alpha, beta, log_z, row, span[0],
                                                    span[1], ids[span[0]:span[1]]))
                for span in spans(item.tags, scheme)}
    return decoded
