"""`tag --split-sentences`: the rule-based splitter, and sentences tagged on their own with
offsets into their line."""

import json
import re

import pytest

from ner_rnn.cli import main
from ner_rnn.data.sentences import ABBREVIATIONS, sentence_ends
from ner_rnn.data.tokenize import tokenize
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.serve.lines import LineEncoder
from ner_rnn.serve.pipeline import _with_documents
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT, SAMPLE


def sentences(text: str) -> list[str]:
    """`text` split by the rules, each sentence as its tokens joined by spaces."""
    tokens = tokenize(text)
    found, start = [], 0
    for end in sentence_ends(tokens):
        found.append(" ".join(token for token, _, _ in tokens[start:end]))
        start = end
    return found


def hand_tokens(*words: str) -> list[tuple[str, int, int]]:
    """Tokens with offsets, a space between words except before a `.`."""
    tokens, position = [], 0
    for word in words:
        position += word != "." and bool(tokens)
        tokens.append((word, position, position + len(word)))
        position += len(word)
    return tokens


@pytest.mark.parametrize("abbreviation", ABBREVIATIONS)
def test_a_listed_abbreviation_does_not_end_a_sentence(abbreviation):
    assert len(sentences(f"They met {abbreviation} Smith there.")) == 1
    # the period split from its word (as in `Mr.Smith`) is still the abbreviation's
    assert sentence_ends(hand_tokens("They", abbreviation[:-1], ".", "Smith")) == [4]


def test_an_unlisted_word_before_a_period_ends_a_sentence():
    assert sentence_ends(hand_tokens("They", "met", ".", "Smith")) == [3, 4]
    assert sentences("He left in May. Then it rained.") == ["He left in May .",
                                                            "Then it rained ."]


def test_initials_and_numbers_do_not_end_a_sentence():
    assert sentences("J. Smith and J. R. R. Tolkien paid 3.5 dollars, not 1,000.5 at 12:30.") \
        == ["J . Smith and J . R . R . Tolkien paid 3.5 dollars , not 1,000.5 at 12:30 ."]
    assert len(sentences("The J.R.R. Tolkien estate.")) == 1


def test_marks_and_closing_quotes_end_sentences():
    assert sentences('Stop! Who goes there? "Me." He left?! (Then) it rained. 2 days. '
                     "\u201cHi.\u201d Bye.") == [
        "Stop !", "Who goes there ?", '" Me . "', "He left ? !", "( Then ) it rained .",
        "2 days .", "\u201c Hi . \u201d", "Bye ."]


def test_no_split_before_a_lowercase_word_and_an_empty_line_is_one_sentence():
    assert sentences("It was late. and then... Quiet. - ok") == [
        "It was late . and then ... Quiet . - ok"]
    assert sentence_ends([]) == [0]


def test_sentences_of_a_line_share_its_document():
    encode = LineEncoder(Vocabularies.build([["a"]], [["O"]]), None, split_sentences=True)
    lines = encode(["A b. C d!", "", "  E f.  "])
    assert lines.encoded.lengths.tolist() == [3, 3, 0, 3]
    assert lines.windows.tolist() == [[0, 4], [5, 9], [0, 0], [0, 8]]
    assert lines.line_numbers().tolist() == [0, 0, 1, 2]
    [given] = _with_documents(iter([([7, 8, 9], lines)]))
    assert given.encoded.documents.tolist() == [7, 7, 8, 9]
    [counted] = _with_documents(iter([([None] * 3, lines)]))
    assert counted.encoded.documents.tolist() == [0, 0, 1, 1]


# -- end to end --------------------------------------------------------------------------

SPLIT = ["Maria Lopez flew to Paris 😀.", "Mr. Smith met J. Brown in Tokyo!",
         '"Where is Berlin?" asked Anna.']
LINE = " ".join(SPLIT)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny CRF tagger that reads neighbouring sentences together (document context)."""
    directory = tmp_path_factory.mktemp("sentences") / "model"
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory), "--set", "train.epochs=4",
                 "--set", "model.head.type=crf", "--set", "model.document_context=12",
                 "--set", "model.embeddings.word.dim=16", "--set", "model.encoder.hidden_size=16",
                 "--set", "threads=1", "--set", f"data.train={SAMPLE / 'train.conll'}",
                 "--set", f"data.dev={SAMPLE / 'dev.conll'}", "--set", "data.test=null"]) == 0
    return directory


def expected(model, lines: list[str], texts: list[str], documents=None) -> list[dict]:
    """What tagging `lines` gives, each line's char offsets moved to where its text
    starts in the line of `texts` it was cut from."""
    results = Tagger.load(model).tag(lines, documents=documents)
    for result, line, text in zip(results, lines, texts):
        shift = text.index(line) if line else 0
        for entity in result["entities"]:
            entity["char_start"] += shift
            entity["char_end"] += shift
    return results


def tag(model, capsys, *args) -> str:
    assert main(["tag", "--model", str(model), "--split-sentences", *args]) == 0
    return capsys.readouterr().out


def test_each_sentence_is_tagged_with_offsets_into_its_line(model, capsys):
    out = tag(model, capsys, "--workers", "0", LINE, "", "Short one.")
    results = [json.loads(line) for line in out.splitlines()]
    assert results == expected(model, [*SPLIT, "", "Short one."], [LINE] * 4 + ["Short one."])
    entities = [e for result in results[1:3] for e in result["entities"]]
    assert entities  # offsets past the first sentence are checked
    assert all(LINE[e["char_start"]:e["char_end"]] == e["text"] for e in entities)
    # chunks of one sentence and a worker process change nothing
    assert tag(model, capsys, "--workers", "1", "--chunk-size", "1", LINE, "",
               "Short one.") == out
    spans = [json.loads(line) for line in tag(model, capsys, "--format", "jsonl", LINE)
             .splitlines()]
    assert [s["text"] for s in spans] == [LINE] * 3
    assert [[list(span) for span in s["entities"]] for s in spans] == [
        [[e["char_start"], e["char_end"], e["type"]] for e in r["entities"]]
        for r in results[:3]]
    utf16 = [json.loads(line) for line in tag(model, capsys, "--format", "jsonl", "--offsets",
                                              "utf16", LINE).splitlines()]
    emoji = LINE.index("😀")  # two UTF-16 units
    assert utf16 == [{**s, "entities": [[a + (a > emoji), b + (b > emoji), kind]
                                        for a, b, kind in s["entities"]]} for s in spans]
    assert utf16 != spans


def test_jsonl_input_keeps_a_records_sentences_in_its_document(model, capsys):
    records = [json.dumps({"text": LINE}), json.dumps({"text": "Anna left. Paris slept."})]
    out = tag(model, capsys, "--input-format", "jsonl", *records)
    lines = [*SPLIT, "Anna left.", "Paris slept."]
    texts = [LINE] * 3 + ["Anna left. Paris slept."] * 2
    assert [json.loads(line) for line in out.splitlines()] == expected(
        model, lines, texts, documents=[1, 1, 1, 2, 2])


def test_inline_shows_each_sentence_as_written(model, capsys):
    out = tag(model, capsys, "--format", "inline", LINE)
    assert [re.sub(r"\[(.*?) [A-Z]+\]", r"\1", line) for line in out.splitlines()] == SPLIT
    page = tag(model, capsys, "--format", "html", LINE)
    items = re.findall(r"<li>(.*?)</li>", page)
    assert [re.sub(r'<span class="type">.*?</span>|<mark[^>]*>|</mark>', "", item)
            for item in items] == [s.replace('"', "&quot;") for s in SPLIT]


@pytest.mark.parametrize("args, other", [(["--pretokenized"], "--pretokenized"),
                                         (["--input-format", "conll"], "--input-format conll")])
def test_split_sentences_refuses_pretokenized_input(args, other, tmp_path, capsys):
    assert main(["tag", "--model", str(tmp_path), "--split-sentences", *args, "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --split-sentences: ") and other in err
    assert err.count("\n") == 1


def test_help_states_the_default():
    from ner_rnn.cli import build_parser

    tag = build_parser()._subparsers._group_actions[0].choices["tag"]
    [action] = [a for a in tag._actions if "--split-sentences" in a.option_strings]
    assert "(default: off" in action.help
