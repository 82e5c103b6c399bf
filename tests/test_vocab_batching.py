from collections import Counter

import numpy as np
import torch

from ner_rnn.data.batching import bucket_batches, collate, context_windows, plan_batches
from ner_rnn.data.encoding import encode
from ner_rnn.data.vocab import CASINGS, PAD, UNK, Vocabularies, Vocabulary, casing


def test_vocabulary_specials_min_freq_and_unknowns():
    vocab = Vocabulary.build(Counter({"the": 3, "cat": 1, "sat": 2}), min_freq=2)
    assert vocab.items == [PAD, UNK, "the", "sat"]
    assert vocab.ids(["the", "cat"]) == [2, 1]


def test_vocabularies_normalise_and_round_trip_json():
    vocabs = Vocabularies.build([["Paris", "in", "1996"]], [["S-LOC", "O", "O"]],
                                lowercase=True, normalize_digits=True)
    assert vocabs.words.items == [PAD, UNK, "0000", "in", "paris"]
    assert [vocabs.token_ids(t, 30)[0] for t in ["PARIS", "2001", "Rome"]] == [4, 2, 1]
    assert vocabs.token_ids("Paris", 3)[1:] == (5, vocabs.chars.ids("Par"))  # title, chars
    assert vocabs.labels.items == ["O", "S-LOC"]  # sorted, no specials
    assert "é" not in vocabs.chars and "P" in vocabs.chars
    again = Vocabularies.from_json(vocabs.to_json())
    assert again.to_json() == vocabs.to_json()


def test_casing_classes():
    assert [CASINGS[casing(t)] for t in ["1996", "A4", "the", "EU", "Paris", "iPhone", ","]] == [
        "numeric", "has_digit", "lower", "upper", "title", "mixed", "other"]


def test_labels_come_from_training_data_sorted():
    vocabs = Vocabularies.build([["a", "b"]], [["I-PER", "B-LOC"]])
    assert vocabs.labels.items == ["B-LOC", "I-PER"]


def test_bucketing_keeps_every_sentence_once_and_groups_lengths():
    lengths = [5, 1, 9, 3, 5, 2, 8, 7, 1, 4]
    batches = bucket_batches(lengths, 3, np.random.default_rng(0))
    assert sorted(i for b in batches for i in b) == list(range(10))
    padding = sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b)
                  for b in batches)
    assert padding == 7  # 9,8,7 | 5,5,4 | 3,2,1 | 1: the least any grouping of 3 can do
    assert bucket_batches(lengths, 3) == bucket_batches(lengths, 3)  # deterministic


def test_collate_pads_masks_and_keeps_long_sentences_whole():
    vocabs = Vocabularies.build([["aa", "b"]], [["O", "B-X"]])
    long = encode(vocabs, ["aa"] * 3000, ["O"] * 3000, char_length=5)
    short = encode(vocabs, ["b", "aa"], ["B-X", "O"], char_length=5)
    batch = collate([long, short], [[1], [0]])
    rows, sentences = batch.rows, batch.sentences
    assert rows.words.shape == rows.spelling.shape == (2, 3000)
    assert rows.chars.shape == (3, 2)  # each spelling once: padding, "aa", "b"
    assert rows.chars[0].tolist() == [0, 0] and rows.spelling[rows.mask].min() > 0
    assert sentences.lengths.tolist() == rows.lengths.tolist() == [2, 3000]
    assert sentences.mask.dtype == torch.bool and sentences.mask.sum().item() == 3002
    b, aa = vocabs.words.id("b"), vocabs.words.id("aa")
    assert rows.words[0, :3].tolist() == [b, aa, 0]
    assert sentences.tags[0, :3].tolist() == [0, 1, 0]  # labels sorted: B-X = 0, O = 1
    a_id, b_char = vocabs.chars.id("a"), vocabs.chars.id("b")
    assert rows.chars[rows.spelling[0, :3]].tolist() == [[b_char, 0], [a_id, a_id], [0, 0]]
    assert rows.casing[0, :3].tolist() == [3, 3, 0]
    assert batch.indices == [1, 0]


def test_context_windows_pack_consecutive_sentences_of_one_document():
    documents = [0, 0, 0, 0, 1, 1, 2]
    lengths = [3, 4, 9, 2, 1, 1, 5]
    assert context_windows(documents, lengths, 8) == [[0, 1], [2], [3], [4, 5], [6]]
    assert context_windows(documents, lengths, 100) == [[0, 1, 2, 3], [4, 5], [6]]
    assert context_windows(documents, lengths, None) == [[i] for i in range(7)]
    examples = [encode(Vocabularies.build([["a"]], [["O"]]), ["a"] * n, document=d)
                for d, n in zip(documents, lengths)]
    batches = plan_batches(examples, 8, 2, np.random.default_rng(1))
    assert sorted(r for batch in batches for row in batch for r in row) == list(range(7))
    assert all(len(batch) <= 2 for batch in batches)


def test_collate_windows_read_sentences_as_one_row_and_map_them_back():
    vocabs = Vocabularies.build([["a", "bb", "c"]], [["O", "B-X", "O"]])
    first = encode(vocabs, ["a", "bb"], ["O", "B-X"], char_length=5)
    second = encode(vocabs, ["c", "a", "a"], ["O", "O", "O"], char_length=5)
    third = encode(vocabs, ["bb"], ["B-X"], char_length=5)
    batch = collate([first, second, third], [[0, 1], [2]])
    rows, sentences = batch.rows, batch.sentences
    a, bb, c = (vocabs.words.id(w) for w in ("a", "bb", "c"))
    assert rows.words.tolist() == [[a, bb, c, a, a], [bb, 0, 0, 0, 0]]  # (rows, row time)
    assert rows.lengths.tolist() == [5, 1] and sentences.lengths.tolist() == [2, 3, 1]
    assert rows.chars.shape == (4, 2)  # padding, "a", "bb", "c"
    assert rows.chars[rows.spelling[1, 0]].tolist() == [vocabs.chars.id("b")] * 2
    assert batch.indices == [0, 1, 2]
    assert sentences.mask.shape == sentences.tags.shape == sentences.positions.shape == (3, 3)
    picked = sentences.from_rows(rows.words.unsqueeze(-1).float()).squeeze(-1)  # (batch, time)
    assert picked.tolist() == [[a, bb, 0], [c, a, a], [bb, 0, 0]]
    alone = collate([first, second, third], [[0], [1], [2]])
    assert torch.equal(alone.sentences.tags, sentences.tags)
    words = alone.rows.words.unsqueeze(-1).float()  # rows are the sentences: the map is identity
    assert torch.equal(alone.sentences.from_rows(words), words)
