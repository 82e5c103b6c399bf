"""Every fast path against the plain version it stands for, one test each, as
pytorch-struct proves its semirings against enumeration.

    fast path                                    plain reference
    predict.spans SpanReader, TagWriter          schemes.spans, schemes.convert, a sentence at a time
    serve.results Results.json_lines             json.dumps of Results.dicts
    decoding.log_partition (recursion with its   the forward algorithm in torch.logsumexp,
      hand-written backward; tree)                 differentiated by autograd
    decoding.marginals                           the gradient of that log Z
    predict.decode span_log_probabilities        log Z of the paths through the span, less log Z
    embeddings.CharCNN (a lookup table and       nn.Conv1d, then the max over each word
      _WindowMax's backward)
    optim.LazyAdam                               torch.optim.SparseAdam
    predict.evaluation.predict (batches, tables) network.decode and schemes.convert, a sentence
                                                 at a time

Elsewhere: Viterbi and k-best against enumeration (test_crf.py), the tokeniser's fast path
against its rules (test_properties.py), the native cells against torch's (test_cells.py).
"""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from ner_rnn.config import CharConfig, load_config
from ner_rnn.data.batching import collate
from ner_rnn.data.encoding import encode_tokens
from ner_rnn.data.examples import Preprocessor
from ner_rnn.data.schemes import convert, spans
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.model.decoding import Potentials, log_partition, marginals, viterbi
from ner_rnn.model.embeddings import CharCNN
from ner_rnn.model.network import build_network
from ner_rnn.predict.decode import span_log_probabilities
from ner_rnn.predict.evaluation import predict
from ner_rnn.predict.paths import Paths
from ner_rnn.predict.spans import SpanReader, TagWriter
from ner_rnn.serve.lines import LineEncoder
from ner_rnn.serve.results import Results, Tagged
from ner_rnn.train.optim import LazyAdam

LABELS = {"iob1": ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"],
          "iob2": ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"],
          "bioes": ["B-LOC", "B-PER", "E-LOC", "E-PER", "I-LOC", "I-PER", "O", "S-LOC", "S-PER"]}
SCHEMES = st.sampled_from(sorted(LABELS))


@settings(deadline=None)
@given(SCHEMES, SCHEMES, st.lists(st.lists(st.integers(0, 8), max_size=10), min_size=1,
                                  max_size=6))
def test_batched_spans_and_tags_are_the_per_sentence_ones(source, target, ids):
    labels = LABELS[source]
    sentences = [[labels[i % len(labels)] for i in sentence] for sentence in ids]
    reader = SpanReader(labels, source)
    writer = TagWriter(reader.types, target)
    lengths = np.array([len(tags) for tags in sentences])
    flat = np.array([labels.index(tag) for tags in sentences for tag in tags], dtype=np.int64)
    found = reader.spans(flat, lengths)
    by_sentence = [[] for _ in sentences]
    for sentence, start, end, type_ in zip(*(x.tolist() for x in (found.sentence, found.start,
                                                                   found.end, found.type))):
        by_sentence[sentence].append((start, end, reader.types[type_]))
    assert by_sentence == [spans(tags, source) for tags in sentences]
    written = [writer.tags[i] for i in writer.write(found, lengths).tolist()]
    assert written == [tag for tags in sentences for tag in convert(tags, source, target)]


ODD = st.text(st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\n", "\t", "\u2028", "😀",
                               "\ud800", "\udfff", "é", "a", "B", "1", ".", " ", "/"]),
              max_size=30)


@settings(deadline=None)
@given(st.lists(ODD, min_size=1, max_size=5), st.randoms(use_true_random=False),
       st.booleans(), st.integers(1, 3))
def test_json_from_pieces_is_json_dumps_byte_for_byte(texts, rng, confidence, nbest):
    labels = LABELS["bioes"]
    lines = LineEncoder(Vocabularies.build([["a"]], [["O"]]), None)(texts)
    lengths, tokens = lines.encoded.lengths, lines.encoded.words.size

    def path():
        return np.array([rng.randrange(len(labels)) for _ in range(tokens)], dtype=np.int64)

    paths = Paths(path())
    if confidence:
        paths = Paths(paths.tags, np.array([rng.uniform(-20, 0) for _ in range(tokens)],
                                           dtype=np.float32))
    if nbest > 1:
        paths = Paths(paths.tags, paths.log_probability, np.stack([path() for _ in range(nbest)]),
                      np.array([[rng.random() < 0.8 for _ in range(nbest)] for _ in texts]),
                      np.array([[rng.uniform(-9, 0) for _ in range(nbest)] for _ in texts],
                               dtype=np.float32), np.zeros(len(texts), dtype=np.float32))
    tagged = Tagged(lines.texts, lengths, lines.offsets, paths)
    results = Results(labels, "bioes", "iob1")
    expected = "".join(json.dumps(result, ensure_ascii=False) + "\n"
                       for result in results.dicts(tagged))
    assert results.json_lines(tagged) == expected


def plain_log_partition(p: Potentials, mask: torch.Tensor) -> torch.Tensor:
    """log Z (batch,) by the forward algorithm, one torch.logsumexp a step."""
    alpha = p.start + p.emissions[:, 0]  # (batch, tags)
    for t in range(1, p.emissions.size(1)):
        moved = torch.logsumexp(alpha.unsqueeze(2) + p.transitions, dim=1) + p.emissions[:, t]
        alpha = torch.where(mask[:, t, None], moved, alpha)  # (batch, tags)
    return torch.logsumexp(alpha + p.end, dim=1)


@st.composite
def potentials(draw) -> tuple[Potentials, torch.Tensor]:
    """float64 potentials of a few sentences (1 to 7 tags, 1 to 9 steps), some
    transitions forbidden as the constraints forbid them."""
    lengths = torch.tensor(draw(st.lists(st.integers(1, 9), min_size=1, max_size=5)))
    tags, scale = draw(st.integers(1, 7)), draw(st.sampled_from([0.1, 1.0, 10.0]))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))

    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    transitions = normal(tags, tags)
    if draw(st.booleans()):  # NEG_INF penalties, never on the diagonal (a path stays)
        forbidden = (torch.rand(tags, tags, generator=generator) < 0.3).fill_diagonal_(False)
        transitions = transitions.masked_fill(forbidden, -1e4)
    p = Potentials(normal(len(lengths), int(lengths.max()), tags) * scale, transitions,
                   normal(tags), normal(tags))
    return p, torch.arange(int(lengths.max()))[None, :] < lengths[:, None]


@settings(max_examples=60, deadline=None)
@given(potentials(), st.sampled_from(["recursion", "tree"]))
def test_log_partition_and_its_gradient_are_autograd_of_the_forward_algorithm(case, algorithm):
    p, mask = case
    fast = Potentials(*(x.clone().requires_grad_() for x in p))
    plain = Potentials(*(x.clone().requires_grad_() for x in p))
    weights = torch.rand(mask.size(0), dtype=torch.float64)  # d loss / d log Z
    found, expected = log_partition(fast, mask, algorithm), plain_log_partition(plain, mask)
    torch.testing.assert_close(found, expected)
    (found * weights).sum().backward()
    (expected * weights).sum().backward()
    def gradient(x: torch.Tensor) -> torch.Tensor:  # one step: no transition, no gradient
        return torch.zeros_like(x) if x.grad is None else x.grad

    for got, want in zip(fast, plain):
        torch.testing.assert_close(gradient(got), gradient(want))


@settings(max_examples=30, deadline=None)
@given(potentials())
def test_marginals_are_the_gradient_of_log_z(case):
    p, mask = case
    alpha, beta, log_z = marginals(p, mask)
    emissions = p.emissions.clone().requires_grad_()
    plain_log_partition(p._replace(emissions=emissions), mask).sum().backward()
    torch.testing.assert_close(log_z, plain_log_partition(p, mask))
    torch.testing.assert_close((alpha + beta - log_z[:, None, None]).exp()[mask],
                               emissions.grad[mask])


@settings(max_examples=30, deadline=None)
@given(potentials(), st.randoms(use_true_random=False))
def test_span_probabilities_are_the_paths_through_the_span_over_all_paths(case, rng):
    p, mask = case
    best = viterbi(p, mask)[0]  # (batch, time)
    rows, starts, ends = [], [], []
    for row, length in enumerate(mask.sum(dim=1).tolist()):
        for _ in range(2):
            start = rng.randrange(length)
            rows.append(row), starts.append(start), ends.append(rng.randrange(start, length) + 1)
    found = span_log_probabilities(p, mask, best, *map(torch.tensor, (rows, starts, ends)))
    for value, row, start, end in zip(found.tolist(), rows, starts, ends):
        through = p.emissions[row : row + 1].clone()  # (1, time, tags)
        other = torch.ones_like(through, dtype=torch.bool)
        other[0, torch.arange(start, end), best[row, start:end]] = False
        other[0, :start] = other[0, end:] = False
        one = Potentials(through.masked_fill(other, float("-inf")), *p[1:])
        expected = (plain_log_partition(one, mask[row : row + 1])
                    - plain_log_partition(Potentials(p.emissions[row : row + 1], *p[1:]),
                                          mask[row : row + 1]))
        assert value == pytest.approx(expected.item(), abs=1e-6)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_char_cnn_is_a_conv1d_and_a_max_over_each_word(width):
    """Values and gradients: on a tie (a repeated window, as in 8888) all of a filter's
    gradient goes to the first window at the maximum, as torch.max gives it."""

    dim, filters = 4, 5
    cnn = CharCNN(CharConfig(type="cnn", dim=dim, filters=filters, width=width),
                  num_chars=9).double()
    embedding = nn.Embedding(9, dim, padding_idx=0).double()
    conv = nn.Conv1d(dim, filters, width).double()
    with torch.no_grad():
        embedding.weight.copy_(cnn.embedding.weight)
        conv.weight.copy_(cnn.window.weight.view(filters, width, dim).transpose(1, 2))
        conv.bias.copy_(cnn.window.bias)
    words = torch.tensor([[3, 4, 5, 0], [2, 0, 0, 0], [8, 8, 8, 8], [1, 7, 0, 0], [6, 0, 0, 0],
                          [1, 2, 3, 4]])  # (words, chars), 0-padded
    weights = torch.randn(len(words), filters, dtype=torch.float64)  # d loss / d features

    left = (width - 1) // 2
    x = nn.functional.pad(embedding(words).transpose(1, 2), (left, width - 1 - left))
    h = conv(x)  # (words, filters, chars)
    expected = h.masked_fill((words == 0).unsqueeze(1), float("-inf")).max(dim=2).values
    found = cnn(words)  # (words, filters)
    torch.testing.assert_close(found, expected)
    (found * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(cnn.embedding.weight.grad, embedding.weight.grad)
    torch.testing.assert_close(cnn.window.weight.grad.view(filters, width, dim).transpose(1, 2),
                               conv.weight.grad)
    torch.testing.assert_close(cnn.window.bias.grad, conv.bias.grad)
    assert cnn.embedding.weight.grad[0].abs().sum() == 0  # the padding character never learns


@settings(deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=4), min_size=1, max_size=5))
def test_lazy_adam_updates_as_sparse_adam_and_loads_its_state(steps):
    torch.manual_seed(0)
    ours, theirs = nn.Embedding(6, 3, sparse=True), nn.Embedding(6, 3, sparse=True)
    theirs.load_state_dict(ours.state_dict())
    lazy = LazyAdam(ours.parameters(), lr=0.1)
    sparse = torch.optim.SparseAdam(theirs.parameters(), lr=0.1)
    for step, rows in enumerate(steps):
        for embedding, optimizer in ((ours, lazy), (theirs, sparse)):
            optimizer.zero_grad()
            embedding(torch.tensor(rows)).pow(2).sum().mul(step + 1).backward()
            optimizer.step()
        torch.testing.assert_close(ours.weight, theirs.weight)
    untouched = sorted(set(range(6)) - {row for rows in steps for row in rows})
    assert torch.equal(ours.weight[untouched], theirs.weight[untouched])
    resumed = LazyAdam(theirs.parameters(), lr=0.1)
    resumed.load_state_dict(sparse.state_dict())
    torch.testing.assert_close(resumed.state[theirs.weight]["exp_avg"],
                               lazy.state[ours.weight]["exp_avg"])


@pytest.mark.parametrize("model_scheme, scheme", [("iob2", "iob1"), ("bioes", "iob2"),
                                                  ("iob1", "bioes")])
def test_batched_prediction_is_each_sentence_decoded_and_converted_alone(model_scheme, scheme):
    """Unconstrained, an untrained network writes ill-formed paths too; batches of mixed
    lengths, empty sentences among them."""

    generator = np.random.default_rng(0)
    words = ["Paris", "is", "nice", "Maria", "Lopez", "flew", "to", "Lima", "."]
    sentences = [list(generator.choice(words, size=n)) for n in generator.integers(0, 12, 40)]
    config = load_config(None, [f"model.scheme={model_scheme}", "data.scheme=iob2",
                                "model.head.type=crf", "model.head.constrain=false",
                                "model.embeddings.word.dim=6", "model.encoder.hidden_size=5",
                                "model.embeddings.char.type=cnn", "train.eval_batch_size=7"])
    vocabs = Vocabularies.build([words], [LABELS[model_scheme]])
    preprocessor = Preprocessor(config, vocabs)
    network = build_network(config, vocabs)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_()  # scores far apart: no near ties for batching to tip
    encoded = encode_tokens(vocabs, [t for s in sentences for t in s],
                            [len(s) for s in sentences], preprocessor.char_length)
    found = predict(network, preprocessor, encoded.with_documents([0] * len(sentences)), scheme,
                    config.train.eval_batch_size)

    labels = vocabs.labels.items
    expected = []
    network.eval()
    with torch.no_grad():
        for tokens in sentences:
            alone = encode_tokens(vocabs, tokens, [len(tokens)], preprocessor.char_length)
            path = network.decode(collate(alone, [[0]]))[0] if tokens else []
            expected.append(convert([labels[i] for i in path], model_scheme, scheme))
    assert found == expected
    assert any(tag != "O" for tags in found for tag in tags)
