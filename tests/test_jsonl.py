"""Corpora from annotation tools: JSON lines with character spans, Label Studio exports,
`convert` both ways, training on them and `tag --format jsonl`."""

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ner_rnn.cli import main
from ner_rnn.config import DataConfig
from ner_rnn.data.conll import read_conll
from ner_rnn.data.corpus import detect_format, read_corpus
from ner_rnn.data.schemes import convert
from ner_rnn.data.spans_jsonl import SpanReader, jsonl_record
from ner_rnn.data.text import MAX_LINE_BYTES, open_binary
from ner_rnn.data.tokenize import tokenize
from ner_rnn.errors import DataFormatError
from tests.conftest import ROOT, SAMPLE

APPLE = "Apple is in Cupertino ."


def jsonl(*records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def read(write, text, name="a.jsonl", **data):
    return read_corpus(write(name, text), DataConfig(**data))


def error(write, text, name="a.jsonl", **data) -> str:
    """The error reading `text`, the file named without its directory."""
    path = write(name, text)
    with pytest.raises(DataFormatError) as caught:
        read_corpus(path, DataConfig(**data))
    return str(caught.value).replace(str(path.parent) + "/", "")


# -- the accepted shapes ---------------------------------------------------------------

@pytest.mark.parametrize("record", [
    {"text": APPLE, "entities": [[0, 5, "ORG"], [12, 21, "LOC"]]},
    {"text": APPLE, "label": [[12, 21, "LOC"], [0, 5, "ORG"]], "id": 7},  # Doccano
    {"text": APPLE, "spans": [{"start": 0, "end": 5, "label": "ORG", "token_start": 0},
                              {"start": 12, "end": 21, "label": "LOC"}]},  # spaCy, Prodigy
    {"text": APPLE, "entities": [{"id": 1, "label": "ORG", "start_offset": 0,
                                  "end_offset": 5},
                                 {"id": 2, "label": "LOC", "start_offset": 12,
                                  "end_offset": 21}]},  # Doccano's relation export
])
def test_every_jsonl_shape_reads_as_iob2(write, record):
    [sentence] = read(write, jsonl(record))
    assert sentence.tokens == ["Apple", "is", "in", "Cupertino", "."]
    assert sentence.tags == ["B-ORG", "O", "O", "B-LOC", "O"]
    assert (sentence.line, sentence.document) == (1, 0)


def test_each_line_is_a_document_and_blank_lines_are_skipped(write):
    text = jsonl({"text": "Paris .", "entities": [[0, 5, "LOC"]]}) + "\n" + jsonl(
        {"text": "Rome is old . So is Athens .", "entities": [[0, 4, "LOC"], [20, 26, "LOC"]]},
        {"text": "", "entities": []})
    first, second = read(write, text)
    assert (first.line, first.document, second.line, second.document) == (1, 0, 3, 2)
    assert second.tags == ["B-LOC", "O", "O", "O", "O", "O", "B-LOC", "O"]  # one sequence


LABEL_STUDIO = [
    {"id": 1, "data": {"text": APPLE}, "annotations": [
        {"was_cancelled": True, "result": [{"value": {"start": 0, "end": 5, "labels": ["PER"]},
                                            "type": "labels"}]},
        {"result": [{"value": {"start": 0, "end": 5, "text": "Apple", "labels": ["ORG"]},
                     "from_name": "label", "to_name": "text", "type": "labels"},
                    {"value": {"choices": ["news"]}, "type": "choices"},
                    {"value": {"start": 12, "end": 21, "labels": ["LOC"]},
                     "type": "labels"}]}]},
    {"id": 2, "data": {"text": "Nothing here ."}, "annotations": []},
    {"id": 3, "data": {"text": "Berlin ."}, "annotations": [
        {"result": [{"value": {"start": 0, "end": 6, "labels": ["LOC"]}}]}]},
]


def test_label_studio_export_first_live_annotation(write, caplog):
    with caplog.at_level(logging.WARNING):
        first, second = read(write, json.dumps(LABEL_STUDIO, indent=2), "export.json")
    assert first.tags == ["B-ORG", "O", "O", "B-LOC", "O"]
    assert second.tokens == ["Berlin", "."] and second.tags == ["B-LOC", "O"]
    assert first.line == 2 and second.document == 2
    assert "export.json: 1 tasks without an annotation skipped" in caplog.text


@pytest.mark.parametrize("name, text, kind", [
    ("a.conll", "Paris B-LOC\n", "conll"),
    ("a.jsonl", jsonl({"text": "Paris", "entities": [[0, 5, "LOC"]]}), "jsonl"),
    ("a.json", json.dumps(LABEL_STUDIO[2:]), "labelstudio"),
    ("a.json", jsonl({"text": "Paris", "entities": [[0, 5, "LOC"]]}), "jsonl"),
    ("corpus", "\ufeff\n" + jsonl({"text": "Paris", "entities": [[0, 5, "LOC"]]}), "jsonl"),
    ("corpus", json.dumps(LABEL_STUDIO[2:], indent=1), "labelstudio"),
    ("corpus", "[ B-LOC\nParis I-LOC\n", "conll"),  # a CoNLL file whose first token is [
])
def test_auto_format_by_extension_then_first_byte(write, name, text, kind):
    path = write(name, text)
    with open_binary(path) as stream:
        assert detect_format(path, stream) == kind
        assert stream.read() == path.read_bytes()  # peeked, not consumed
    assert read_corpus(path, DataConfig())[0].tags[0] in ("B-LOC", "O")


def test_data_format_names_it_whatever_the_name(write):
    text = jsonl({"text": "Paris", "entities": [[0, 5, "LOC"]]})
    assert "a.txt:2: expected 2 columns" in error(write, "{ O\n" + text, "a.txt", format="conll")
    assert read(write, text, "a.txt", format="jsonl")[0].tags == ["B-LOC"]


# -- alignment -------------------------------------------------------------------------

def test_misaligned_span_errors_with_file_line_span_and_boundaries(write):
    text = jsonl({"text": "x", "entities": []}, {"text": APPLE, "entities": [[1, 5, "ORG"]]})
    assert error(write, text) == (
        'a.jsonl:2: entity [1, 5, "ORG"] ("pple") is not on token boundaries; the nearest '
        'around it are [0, 5] ("Apple"); fix the offsets, or set data.misaligned (convert: '
        "--misaligned) to expand or skip")


def test_misaligned_expand_and_skip_are_counted(write, caplog):
    text = jsonl({"text": APPLE, "entities": [[1, 5, "ORG"], [11, 22, "LOC"]]})
    with caplog.at_level(logging.WARNING):
        [expanded] = read(write, text, misaligned="expand")
    assert expanded.tags == ["B-ORG", "O", "O", "B-LOC", "O"]
    assert "a.jsonl: 2 entities expanded to token boundaries" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        [skipped] = read(write, text, misaligned="skip")
    assert skipped.tags == ["O"] * 5
    assert "a.jsonl: 2 skipped as not on token boundaries" in caplog.text


def test_span_of_spaces_covers_no_token(write):
    text = jsonl({"text": "a  b", "entities": [[1, 3, "X"]]})
    assert "entity [1, 3, \"X\"] (\"  \") covers no token" in error(write, text)
    assert read(write, text, misaligned="expand")[0].tags == ["O", "O"]


@pytest.mark.parametrize("entities, shown", [
    ([[0, 21, "ORG"], [12, 21, "LOC"]], ('[0, 21, "ORG"] ("Apple is in Cupertino") and '
                                        '[12, 21, "LOC"] ("Cupertino") overlap')),
    ([[0, 8, "ORG"], [6, 11, "LOC"]], ('[0, 8, "ORG"] ("Apple is") and [6, 11, "LOC"] '
                                      '("is in") overlap')),
])
def test_overlapping_and_nested_spans_name_both(write, entities, shown):
    text = jsonl({"text": APPLE, "entities": entities})
    message = error(write, text)
    assert message.startswith("a.jsonl:1: entities " + shown) and "data.overlapping" in message
    [kept] = read(write, text, overlapping="skip")
    assert kept.tags[0] == "B-ORG" and kept.tags.count("B-LOC") == 0


def test_own_tokens_pairs_are_kept_and_prodigy_token_objects_ignored(write):
    pairs = {"text": "O'Neill's book", "entities": [[0, 9, "PER"]], "tokens": [[0, 9], [10, 14]]}
    assert read(write, jsonl(pairs))[0].tokens == ["O'Neill's", "book"]
    prodigy = {**pairs, "tokens": [{"text": "O'Neill's", "start": 0, "end": 9, "id": 0},
                                   {"text": "book", "start": 10, "end": 14, "id": 1}]}
    assert read(write, jsonl(prodigy))[0].tokens == ["O'Neill", "'s", "book"]
    assert "is not on token boundaries" in error(write, jsonl(
        {**prodigy, "entities": [[0, 7, "PER"], [0, 8, "X"]]}))


@pytest.mark.parametrize("tokens, message", [
    ([[0, 9], [8, 14]], "token [8, 14]: expected tokens in order, apart, without spaces"),
    ([[0, 10]], "without spaces, got \"O'Neill's \""),
    ([[0, 9], [10, 99]], "end is past the end of the text (14 characters)"),
    ([[0, 9.0]], "expected a token [start, end] of integers, got [0, 9.0]"),
    ({"0": [0, 9]}, 'expected "tokens" to be a list of [start, end]'),
])
def test_own_tokens_are_checked(write, tokens, message):
    record = {"text": "O'Neill's book", "entities": [], "tokens": tokens}
    assert message in error(write, jsonl(record))


def test_exact_duplicates_are_one_entity(write):
    [sentence] = read(write, jsonl({"text": APPLE, "entities": [[0, 5, "ORG"]] * 2}))
    assert sentence.tags[0] == "B-ORG"


# -- what is refused -------------------------------------------------------------------

@pytest.mark.parametrize("record, message", [
    ({"text": APPLE, "entities": [[0, 99, "ORG"]]},
     'entity [0, 99, "ORG"]: end is past the end of the text (23 characters)'),
    ({"text": APPLE, "entities": [[5, 5, "ORG"]]}, "start must be less than end"),
    ({"text": APPLE, "entities": [[5, 0, "ORG"]]}, "start must be less than end"),
    ({"text": APPLE, "entities": [[-1, 5, "ORG"]]}, "offsets must be >= 0"),
    ({"text": APPLE, "entities": [[True, 5, "ORG"]]}, "expected integer offsets, got True"),
    ({"text": APPLE, "entities": [[0, 5.0, "ORG"]]}, "expected integer offsets, got 5.0"),
    ({"text": APPLE, "entities": [["0", 5, "ORG"]]}, "expected integer offsets, got '0'"),
    ({"text": APPLE, "entities": [{"start": 0, "end": 5, "label": ["ORG"]}]},
     "expected a label string without spaces, got ['ORG']"),
    ({"text": APPLE, "entities": [[0, 5, "New York"]]}, "without spaces, got 'New York'"),
    ({"text": APPLE, "entities": [[0, 5, ""]]}, "without spaces, got ''"),
    ({"text": APPLE, "entities": [[0, 5]]}, 'expected an entity [start, end, "LABEL"]'),
    ({"text": APPLE, "entities": ["ORG"]}, 'expected an entity [start, end, "LABEL"]'),
    ({"text": APPLE, "entities": {"ORG": [0, 5]}}, 'expected "entities" to be a list'),
    ({"text": APPLE, "entites": []}, 'expected one of "entities", "label" or "spans"'),
    ({"text": APPLE, "entities": [], "label": []}, 'got "entities" and "label"'),
    ({"text": 3, "entities": []}, 'expected "text" to be a string, got 3'),
    ({"txt": "a", "entities": []}, 'expected a "text" key, got only "txt", "entities"'),
    ([APPLE], "expected a JSON object"),
])
def test_malformed_records_name_file_and_line(write, record, message):
    text = jsonl({"text": "ok", "entities": []}, record)
    assert error(write, text).startswith("a.jsonl:2: ")
    assert message in error(write, text)


@pytest.mark.parametrize("line, message", [
    ('{"text": "a", "entities": [[0, 1, "X"]]', "a.jsonl:1: invalid JSON (Expecting ',' "),
    ('{"text": "a", "entities": [[NaN, 1, "X"]]}', "a.jsonl:1: invalid JSON (NaN is not"),
    ('{"text": "a", "entities": [[' + "9" * 5000 + ', 1, "X"]]}', "a.jsonl:1: invalid JSON"),
    ("[" * 100_000, "a.jsonl:1: "),
])
def test_invalid_json_is_one_error(write, line, message):
    assert error(write, line + "\n").startswith(message)


def test_invalid_utf8_names_the_line(write):
    text = jsonl({"text": "ok", "entities": []}).encode() + b'{"text": "caf\xe9"}\n'
    assert error(write, text).startswith("a.jsonl:2: invalid UTF-8 (byte 0xe9)")


def test_a_text_of_a_megabyte_is_read_and_a_longer_line_refused(write):
    words = "Paris " * ((MAX_LINE_BYTES - 100) // 6)
    record = {"text": words, "entities": [[6, 11, "LOC"]]}
    [sentence] = read(write, jsonl(record))
    assert len(sentence.tokens) == len(words.split()) and sentence.tags[:3] == [
        "O", "B-LOC", "O"]
    record["text"] += "x" * 200
    assert error(write, jsonl(record)) == (
        f"a.jsonl:1: line longer than {MAX_LINE_BYTES} bytes, the most a line may hold")


def test_label_studio_export_on_one_long_line_says_to_indent_it(write):
    task = {"data": {"text": "Paris " * (MAX_LINE_BYTES // 6)}, "annotations": []}
    assert error(write, json.dumps([task]), "a.json").endswith(
        "the most a line may hold (an export written on one line? indent it first: "
        "python -m json.tool FILE > INDENTED.json)")


def test_a_json_array_of_records_is_read_like_json_lines(write):
    records = [{"text": "Paris .", "label": [[0, 5, "LOC"]]}, {"text": "Rome", "label": []}]
    text = json.dumps(records, indent=2)
    first, second = read(write, text, "doccano.json")
    opening = text[:text.index('"Rome"')].count("\n")  # the line of the second item's {
    assert (first.tags, second.tags, second.line) == (["B-LOC", "O"], ["O"], opening)


def test_an_empty_corpus_says_what_was_expected(write):
    assert error(write, "\n\n" + jsonl({"text": " ", "entities": []})) == (
        "a.jsonl: no sentences found (expected JSON lines)")


def test_label_studio_errors(write):
    assert error(write, '{"data": {}}', "a.json", format="labelstudio").startswith(
        "a.json:1: expected a JSON array of Label Studio tasks")
    tasks = json.dumps(LABEL_STUDIO[2:] + [{"data": {"text": "x"}, "annotations": [
        {"result": [{"value": {"start": 0, "end": 1, "labels": ["A", "B"]}}]}]}], indent=2)
    assert 'task 2): expected "labels" to hold one label' in error(write, tasks, "a.json")
    assert error(write, '[{"data": {"text": "x"}} 3', "a.json").startswith(
        "a.json:1: invalid JSON (expected ',' or ']'")
    assert error(write, '[]\n[]', "a.json").startswith("a.json:2: invalid JSON (text after")
    assert error(write, '[]', "a.json") == (
        "a.json: no sentences found (expected a Label Studio export)")


# -- Unicode and offsets ---------------------------------------------------------------

UNICODE = [
    ("Cafe\u0301 Zoe\u0308 opened in Mu\u0308nchen .", ["Cafe\u0301 Zoe\u0308", "Mu\u0308nchen"]),
    ("\U0001F600 Tokyo \U0001F1EF\U0001F1F5 and Osaka !", ["Tokyo", "Osaka"]),
    ("Line one in Oslo .\r\nLine two in Bergen .", ["Oslo", "Bergen"]),
]


@pytest.mark.parametrize("text, names", UNICODE)
@pytest.mark.parametrize("offsets", ["codepoints", "utf16"])
def test_unicode_offsets_are_exact(write, text, names, offsets):
    def units(index: int) -> int:  # the offset as the file counts it
        prefix = text[:index]
        return len(prefix.encode("utf-16-le")) // 2 if offsets == "utf16" else len(prefix)

    entities = [[units(text.index(n)), units(text.index(n) + len(n)), "X"] for n in names]
    [sentence] = read(write, jsonl({"text": text, "entities": entities}), offsets=offsets)
    tokens = tokenize(text)
    assert sentence.tokens == [t for t, _, _ in tokens]
    found = [" ".join(sentence.tokens[i] for i in range(len(tokens))
                      if sentence.tags[i] != "O" and _inside(tokens[i], text, n)) for n in names]
    assert found == [" ".join(n.split()) for n in names]


def _inside(token, text, name) -> bool:
    start = text.index(name)
    return start <= token[1] and token[2] <= start + len(name)


def test_utf16_offset_inside_a_surrogate_pair_is_refused(write):
    text = jsonl({"text": "\U0001F600 Tokyo", "entities": [[1, 8, "LOC"]]})
    assert "falls between the two UTF-16 units of one character" in error(
        write, text, offsets="utf16")
    assert "end is past the end of the text (7 characters)" in error(write, text)


# -- convert and the round trip --------------------------------------------------------

@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_conll_to_jsonl_to_conll_is_identical(tmp_path, split):
    source = SAMPLE / f"{split}.conll"
    spans, back = tmp_path / "a.jsonl", tmp_path / "b.conll"
    assert main(["convert", "--input", str(source), "--output", str(spans),
                 "--to", "jsonl"]) == 0
    assert main(["convert", "--input", str(spans), "--output", str(back), "--to", "conll"]) == 0
    assert back.read_bytes() == source.read_bytes()
    records = [json.loads(line) for line in spans.read_text().splitlines()]
    for record, sentence in zip(records, read_conll(source)):
        assert record["text"] == " ".join(sentence.tokens)
        for start, end, _ in record["entities"]:
            assert record["text"][start:end].strip() == record["text"][start:end] != ""


def test_convert_keeps_tokens_the_tokeniser_would_split(tmp_path, write):
    source = write("a.conll", "O'Neill's B-PER\nbook O\n")
    target = tmp_path / "a.jsonl"
    assert main(["convert", "--input", str(source), "--output", str(target),
                 "--to", "jsonl"]) == 0
    assert json.loads(target.read_text()) == {"text": "O'Neill's book", "entities":
                                              [[0, 9, "PER"]], "tokens": [[0, 9], [10, 14]]}
    [sentence] = read_corpus(target, DataConfig())
    assert sentence.tokens == ["O'Neill's", "book"]


def test_convert_utf16_bioes_and_errors(tmp_path, write, capsys):
    source = write("a.jsonl", jsonl({"text": "\U0001F600 Tokyo Bay", "entities": [
        [3, 12, "LOC"]]}))
    conll = tmp_path / "a.conll"
    assert main(["convert", "--input", str(source), "--output", str(conll), "--to", "conll",
                 "--offsets", "utf16", "--scheme", "bioes"]) == 0
    assert conll.read_text() == "\U0001F600 O\nTokyo B-LOC\nBay E-LOC\n\n"
    back = tmp_path / "b.jsonl"
    assert main(["convert", "--input", str(conll), "--output", str(back), "--to", "jsonl",
                 "--offsets", "utf16"]) == 0
    assert json.loads(back.read_text())["entities"] == [[3, 12, "LOC"]]
    capsys.readouterr()
    assert main(["convert", "--input", str(source), "--output", str(conll), "--to",
                 "conll"]) == 2
    assert capsys.readouterr().err == (
        'error: a.jsonl:1: entity [3, 12, "LOC"]: end is past the end of the text '
        "(11 characters)\n".replace("a.jsonl", str(source)))
    assert conll.read_text().startswith("\U0001F600 O")  # untouched
    assert main(["convert", "--input", str(conll), "--output", str(conll), "--to",
                 "jsonl"]) == 2
    assert "is the input file" in capsys.readouterr().err


# -- train, evaluate and tag on JSON lines ---------------------------------------------

@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    directory = tmp_path_factory.mktemp("jsonl")
    for split in ("train", "dev"):
        assert main(["convert", "--input", str(SAMPLE / f"{split}.conll"), "--output",
                     str(directory / f"{split}.jsonl"), "--to", "jsonl"]) == 0
    return directory


def test_train_evaluate_and_tag_jsonl(corpora, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"), "--output-dir",
                 str(model), "--set", "train.epochs=2", "--set", "model.encoder.hidden_size=16",
                 "--set", "model.embeddings.word.dim=16", "--set", "threads=1",
                 "--set", f"data.train={corpora / 'train.jsonl'}",
                 "--set", f"data.dev={corpora / 'dev.jsonl'}", "--set", "data.test=null"]) == 0
    assert "scheme: iob2" in (model / "config.yaml").read_text()
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(corpora / "dev.jsonl"),
                 "--format", "json"]) == 0
    from_jsonl = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--model", str(model), "--data", str(SAMPLE / "dev.conll"),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == from_jsonl

    texts = ["\U0001F600 Maria Lopez flew from Paris to Tokyo .", "", "I like eating apple !"]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    for offsets in ("codepoints", "utf16"):
        output = tmp_path / f"{offsets}.jsonl"
        assert main(["tag", "--model", str(model), "--input", str(source), "--output",
                     str(output), "--format", "jsonl", "--offsets", offsets]) == 0
        results = [json.loads(line) for line in output.read_text().splitlines()]
        assert [r["text"] for r in results] == texts
        assert all(set(r) == {"text", "entities"} for r in results)
    plain, wide = ([json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
                   for name in ("codepoints.jsonl", "utf16.jsonl"))
    assert any(r["entities"] for r in plain)
    assert [[[s + 1, e + 1, t] for s, e, t in r["entities"]] for r in plain[:1]] == [
        r["entities"] for r in wide[:1]]  # the emoji counts two UTF-16 units
    assert plain[1:] == wide[1:]
    # what tag wrote reads back as a corpus (pre-annotation) with the same tokens
    reread = read_corpus(tmp_path / "codepoints.jsonl", DataConfig())
    assert reread[0].tokens == [t for t, _, _ in tokenize(texts[0])]
    workers = tmp_path / "workers.jsonl"
    assert main(["tag", "--model", str(model), "--input", str(source), "--output",
                 str(workers), "--format", "jsonl", "--offsets", "utf16", "--workers", "1"]) == 0
    assert workers.read_bytes() == (tmp_path / "utf16.jsonl").read_bytes()
    assert main(["report", "--model", str(model), "--data", str(corpora / "dev.jsonl"),
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scheme"] == "iob2" and report["scores"] == from_jsonl
    # texts of JSON lines in (any shape, entities unread), pre-annotations out
    again = tmp_path / "again.jsonl"
    assert main(["tag", "--model", str(model), "--input", str(corpora / "dev.jsonl"),
                 "--input-format", "jsonl", "--format", "jsonl", "--output", str(again)]) == 0
    texts = [json.loads(line)["text"]
             for line in (corpora / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    tagged = [json.loads(line) for line in again.read_text().splitlines()]
    assert [r["text"] for r in tagged] == texts and any(r["entities"] for r in tagged)
    record = json.dumps({"text": "Maria Lopez\r\nflew to Paris", "label": []})
    assert main(["tag", "--model", str(model), "--input-format", "jsonl", "--format",
                 "jsonl", record, '{"text": ""}']) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["text"] == "Maria Lopez\r\nflew to Paris" and second == {"text": "",
                                                                          "entities": []}
    assert all(first["text"][s:e].strip() == first["text"][s:e] for s, e, _ in
               first["entities"])
    assert main(["tag", "--model", str(model), "--input-format", "jsonl", "[1]"]) == 2
    assert capsys.readouterr().err == (
        'error: <arguments>:1: expected a JSON object {"text": ...}, got [1]\n')
    assert main(["tag", "--model", str(model), "--offsets", "utf16", "x"]) == 2
    assert "error: --offsets utf16: applies to --format jsonl only, not" in capsys.readouterr().err


# -- any sentence survives the trip through JSON lines ---------------------------------

TOKEN = st.text(st.sampled_from(list("aZé1.'-\u0301東\U0001F600\u200d")), min_size=1,
                max_size=6)


@given(st.lists(st.tuples(TOKEN, st.sampled_from(["O", "B-PER", "I-PER", "B-LOC"])),
                min_size=1, max_size=8),
       st.booleans())
def test_any_tagged_sentence_round_trips_through_a_json_line(rows, utf16):
    tokens, tags = [t for t, _ in rows], [g for _, g in rows]
    record = jsonl_record(tokens, tags, "iob2", utf16)
    line = json.dumps(record, ensure_ascii=False)
    [sentence] = SpanReader(offsets="utf16" if utf16 else "codepoints").jsonl([line], "a")
    assert sentence.tokens == tokens
    assert sentence.tags == convert(tags, "iob2", "iob2")
