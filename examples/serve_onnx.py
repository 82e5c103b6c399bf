"""Tags whitespace-tokenised lines with a `ner-rnn export` model, needing only onnxruntime,
numpy and FILE.onnx.vocab.json: the reference for clients in other languages.

    python examples/serve_onnx.py FILE.onnx < lines.txt   (UTF-8, tokens apart by spaces/tabs)

Prints each line's tokens as `token<TAB>tag` lines, then an empty line: what `ner-rnn tag
--pretokenized --format conll --scheme S` prints (S: the JSON's `scheme`). Models trained
with model.document_context are refused (their rows hold several sentences)."""
import json
import re
import sys

import numpy as np
import onnxruntime

BATCH = 32  # sentences per session run
# casing classes (ner_rnn/data/vocab.py): the first test that holds names a token's class
CASINGS = (("numeric", str.isdigit), ("has_digit", lambda t: any(c.isdigit() for c in t)),
           ("lower", str.islower), ("upper", str.isupper), ("title", str.istitle),
           ("mixed", lambda t: any(c.isalpha() for c in t)))


def padded(values, where: np.ndarray) -> np.ndarray:
    """int64 array of where's shape: `values` in order where `where` is True, 0 elsewhere."""
    array = np.zeros(where.shape, np.int64)
    array[where] = values
    return array


def feeds(vocab: dict, ids: dict, sentences: list[list[str]]) -> dict:
    """The graph's inputs (see ner_rnn/export/files.py), each sentence a row of its own;
    `ids`: each word's and char's id. chars holds each token's spelling on a row."""
    tokens = [token for sentence in sentences for token in sentence]
    lengths = np.array([len(sentence) for sentence in sentences])  # (batch,)
    mask = np.arange(lengths.max()) < lengths[:, None]  # (batch, time), True on tokens
    keys = [t.lower() if vocab["lowercase"] else t for t in tokens]
    keys = [re.sub(r"\d", "0", k) if vocab["normalize_digits"] else k for k in keys]
    casings = [next((name for name, test in CASINGS if test(t)), "other") for t in tokens]
    spellings = [[ids["chars"].get(c, 1) for c in t[:vocab["char_max_length"]]] for t in tokens]
    spelled = np.array([0, *map(len, spellings)])  # (1 + tokens,): chars row 0 is padding
    values = {"words": padded([ids["words"].get(k, 1) for k in keys], mask),  # 1: unknown
              "casing": padded([vocab["casings"].index(c) for c in casings], mask),
              "chars": padded([c for s in spellings for c in s],
                              np.arange(spelled.max()) < spelled[:, None]),  # (1 + tokens, chars)
              "spelling": padded(range(1, 1 + len(tokens)), mask),
              "lengths": lengths, "sentence_lengths": lengths,
              "positions": padded(np.flatnonzero(mask), mask)}  # row * time + t
    return {name: values[name] for name in vocab["inputs"]}


def main(model: str) -> None:
    with open(f"{model}.vocab.json", encoding="utf-8") as file:
        vocab = json.load(file)
    if (vocab.get("format"), vocab.get("format_version")) != ("ner_rnn-export", 1):
        sys.exit(f"error: {model}.vocab.json: not a ner_rnn export of format version 1")
    if vocab["document_context"]:
        sys.exit(f"error: {model}: trained with model.document_context, which this client "
                 "does not encode (tag it with ner-rnn tag)")
    ids = {key: {item: i for i, item in enumerate(vocab[key])} for key in ("words", "chars")}
    session = onnxruntime.InferenceSession(model)
    text = sys.stdin.buffer.read().decode("utf-8-sig")
    lines = text.removesuffix("\n").split("\n") if text else []
    sentences = [re.findall(r"[^ \t]+", line.rstrip("\r")) for line in lines]
    sys.stdout.reconfigure(encoding="utf-8")
    tags = [[] for _ in sentences]  # label ids of each sentence
    tagged = [i for i, tokens in enumerate(sentences) if tokens]  # an empty line has none
    for first in range(0, len(tagged), BATCH):
        batch = tagged[first:first + BATCH]
        found = session.run(["tags"], feeds(vocab, ids, [sentences[i] for i in batch]))[0]
        for b, i in enumerate(batch):  # found: (batch, time)
            tags[i] = found[b, :len(sentences[i])]
    for tokens, tag_ids in zip(sentences, tags):
        print("".join(f"{t}\t{vocab['labels'][i]}\n" for t, i in zip(tokens, tag_ids)))


if __name__ == "__main__":
    main(*sys.argv[1:])
