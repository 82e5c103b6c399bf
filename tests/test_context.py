"""Document context: the encoder reads neighbouring sentences of the same document.

The corpus is built so that only context tells: "Vell rose ." is PER or ORG depending
on what an earlier sentence of the same document said about Vell.
"""

import random

import pytest

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.data.conll import read_conll
from ner_rnn.serve.tagger import Tagger
from ner_rnn.train.loop import train

NAMES = ["Vell", "Orsk", "Tamm", "Quib", "Dresk", "Halm", "Pryn", "Zoll", "Kemb", "Wirt"]
TYPES = {"person": "PER", "company": "ORG"}


def corpus(documents: int, seed: int) -> str:
    """Documents of two sentences: "N is a person ." then "N rose ." (N tagged alike)."""
    rng = random.Random(seed)
    text = []
    for _ in range(documents):
        name, kind = rng.choice(NAMES), rng.choice(list(TYPES))
        tag = f"B-{TYPES[kind]}"
        text.append("-DOCSTART- O\n\n"
                    f"{name} {tag}\nis O\na O\n{kind} O\n. O\n\n"
                    f"{name} {tag}\nrose O\n. O\n\n")
    return "".join(text)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("context")
    (directory / "train.conll").write_text(corpus(300, 0))
    (directory / "dev.conll").write_text(corpus(60, 1))
    return directory


def trained(files, context: int):
    # 24 hidden units: with 16, one seed in about thirty sits on a plateau (the second
    # sentence a coin toss) for fifteen epochs before it learns to read the first
    config = load_config(None, [f"data.train={files / 'train.conll'}",
                                f"data.dev={files / 'dev.conll'}", "train.epochs=12",
                                "model.embeddings.word.dim=16", "model.encoder.hidden_size=24",
                                "model.head.type=crf", "train.lr=0.02", "train.batch_size=8",
                                f"model.document_context={context}", "train.patience=null"])
    directory = files / f"model{context}"
    return train(config, directory)["dev"]["f1"], directory


@pytest.fixture(scope="module")
def with_context(files):
    return trained(files, 50)


def test_context_decides_what_a_sentence_alone_cannot(files, with_context):
    alone, _ = trained(files, 0)
    assert alone < 0.9  # the second sentence of each document is a coin toss (F1 ~0.75)
    assert with_context[0] > 0.97


def test_every_way_of_tagging_reads_documents_alike(files, with_context, capsys):
    model = with_context[1]
    tagger = Tagger.load(model)
    sentences = read_conll(files / "dev.conll")
    report, predicted = tagger.evaluate(sentences)
    assert report["overall"]["f1"] > 0.97
    # tag(): a blank line ends a document; --input-format conll: -DOCSTART- does
    lines = []
    for previous, sentence in zip([None] + sentences, sentences):
        if previous is not None and previous.document != sentence.document:
            lines.append("")
        lines.append(" ".join(sentence.tokens))
    tagged = [result["tags"] for result in tagger.tag(lines, pretokenized=True) if result["tokens"]]
    assert tagged == predicted
    assert main(["tag", "--model", str(model), "--input", str(files / "dev.conll"),
                 "--input-format", "conll", "--format", "conll"]) == 0
    rows = [row.split("\t") for row in capsys.readouterr().out.splitlines() if row]
    assert [tag for _, tag in rows] == [tag for tags in predicted for tag in tags]
    with pytest.raises(ValueError, match="one id per sentence"):
        tagger.predict([["Vell", "rose", "."]], documents=[0, 0])
