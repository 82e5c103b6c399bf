"""`python examples/serve_onnx.py FILE.onnx < lines.txt` tags lines of tokens (UTF-8, apart by
spaces/tabs; up to a blank line, a document) as `ner-rnn tag --pretokenized --format conll
--scheme S` does (S: FILE.onnx.vocab.json's scheme), needing only onnxruntime, numpy, the JSON."""
import json
import re
import sys

import numpy as np
import onnxruntime

# casing classes (ner_rnn/data/vocab.py): the first test that holds names a token's class
CASINGS = (("numeric", str.isdigit), ("has_digit", lambda t: any(c.isdigit() for c in t)),
           ("lower", str.islower), ("upper", str.isupper), ("title", str.istitle),
           ("mixed", lambda t: any(c.isalpha() for c in t)))


def padded(values, where: np.ndarray) -> np.ndarray:  # values where `where` is True, else 0
    array = np.zeros(where.shape, np.int64)
    array[where] = values
    return array


def windows(sentences: list[list[str]], max_tokens: int) -> list[list[int]]:
    """Encoder rows as ner_rnn packs them: a document's sentences in windows of <= max_tokens."""
    rows, room = [], 0  # room: tokens the last window may still take
    for i, sentence in enumerate(sentences):
        if sentence and len(sentence) > room:
            rows.append([])
            room = max_tokens
        if sentence:
            rows[-1].append(i)
        room = room - len(sentence) if sentence else 0  # a blank line ends a document
    return rows


def feeds(vocab: dict, ids: dict, rows: list[list[list[str]]]) -> dict:
    """The graph's inputs (see ner_rnn/export/files.py) for rows of sentences."""
    tokens = [token for row in rows for sentence in row for token in sentence]
    lengths = np.array([len(sentence) for row in rows for sentence in row])  # (batch,)
    row_lengths = np.array([sum(map(len, row)) for row in rows])  # (rows,)
    mask = np.arange(lengths.max()) < lengths[:, None]  # (batch, time), True on tokens
    row_mask = np.arange(row_lengths.max()) < row_lengths[:, None]  # (rows, row time)
    keys = [t.lower() if vocab["lowercase"] else t for t in tokens]
    keys = [re.sub(r"\d", "0", k) if vocab["normalize_digits"] else k for k in keys]
    casings = [next((name for name, test in CASINGS if test(t)), "other") for t in tokens]
    spellings = [[ids["chars"].get(c, 1) for c in t[:vocab["char_max_length"]]] for t in tokens]
    spelled = np.array([0, *map(len, spellings)])  # (1 + tokens,): chars row 0 is padding
    values = {"words": padded([ids["words"].get(k, 1) for k in keys], row_mask),  # 1: unknown
              "casing": padded([vocab["casings"].index(c) for c in casings], row_mask),
              "chars": padded([c for s in spellings for c in s],  # (1 + tokens, chars)
                              np.arange(spelled.max()) < spelled[:, None]),
              "spelling": padded(range(1, 1 + len(tokens)), row_mask),
              "lengths": row_lengths, "sentence_lengths": lengths,
              "positions": padded(np.flatnonzero(row_mask), mask)}  # row * row time + t
    return {name: values[name] for name in vocab["inputs"]}


def main(model: str) -> None:
    with open(f"{model}.vocab.json", encoding="utf-8") as file:
        vocab = json.load(file)
    if (vocab.get("format"), vocab.get("format_version")) != ("ner_rnn-export", 1):
        sys.exit(f"error: {model}.vocab.json: not a ner_rnn export of format version 1")
    ids = {key: {item: i for i, item in enumerate(vocab[key])} for key in ("words", "chars")}
    run = onnxruntime.InferenceSession(model).run
    text = sys.stdin.buffer.read().decode("utf-8-sig")
    lines = text.removesuffix("\n").split("\n") if text else []
    sentences = [re.findall(r"[^ \t]+", line.rstrip("\r")) for line in lines]
    tags = {}  # each sentence's label ids, padded (zip with its tokens drops the padding)
    rows = windows(sentences, vocab["document_context"] or 0)
    for batch in (rows[first:first + 32] for first in range(0, len(rows), 32)):  # 32 rows a run
        found = run(["tags"], feeds(vocab, ids, [[sentences[i] for i in r] for r in batch]))[0]
        tags.update(zip((i for row in batch for i in row), found))  # found: (sentences, time)
    out = ("".join(f"{t}\t{vocab['labels'][j]}\n" for t, j in zip(tokens, tags.get(i, ()))) + "\n"
           for i, tokens in enumerate(sentences))  # an empty line has no tags
    sys.stdout.buffer.write("".join(out).encode("utf-8"))


if __name__ == "__main__":
    main(*sys.argv[1:])
