import pytest

from ner_rnn.data.conll import read_conll
from ner_rnn.errors import DataFormatError


def test_reads_sentences_columns_and_documents(write):
    path = write("a.conll", "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\n\n"
                            "-DOCSTART- -X- O\nPeter\tNNP\tB-PER\nBlackburn  NNP I-PER\n")
    first, second = read_conll(path)
    assert first.tokens == ["EU", "rejects"] and first.tags == ["B-ORG", "O"]
    assert first.line == 3
    assert second.tokens == ["Peter", "Blackburn"] and second.tags == ["B-PER", "I-PER"]
    assert (first.document, second.document) == (0, 1)


def test_crlf_bom_and_missing_final_newline(write):
    path = write("a.conll", "\ufeffParis B-LOC\r\nis O\r\n\r\nOK O".encode())
    sentences = read_conll(path)
    assert [s.tokens for s in sentences] == [["Paris", "is"], ["OK"]]
    assert sentences[0].tags == ["B-LOC", "O"]


def test_docstart_in_the_middle_of_a_sentence_ends_it(write):
    sentences = read_conll(write("a.conll", "a O\n-DOCSTART- O\nb O\n"))
    assert [s.tokens for s in sentences] == [["a"], ["b"]]


def test_tag_column_is_configurable(write):
    sentences = read_conll(write("a.conll", "EU B-ORG NNP\n"), tag_column=1)
    assert sentences[0].tags == ["B-ORG"]


def test_untagged_reading_keeps_tokens_only(write):
    sentences = read_conll(write("a.conll", "EU\nrejects\n"), tagged=False)
    assert sentences[0].tokens == ["EU", "rejects"] and sentences[0].tags is None


@pytest.mark.parametrize("text, message", [
    ("a NN O\nb O\n", "a.conll:2: expected 3 columns as on line 1, got 2: 'b O'"),
    ("a B_PER\n", ("a.conll:1: expected a tag \"O\", \"B-X\", \"I-X\", \"E-X\" or \"S-X\", "
                  "got 'B_PER': 'a B_PER'")),
    ("a B-\n", "got 'B-'"),
    ("a X-PER\n", "got 'X-PER'"),
    ("lonely\n", "a.conll:1: expected a token and a tag in column -1, got 1 column(s)"),
    ("\n\n-DOCSTART- O\n\n", "a.conll: no sentences found"),
    # old Mac line ends: one line that split() would read as one token of many columns
    ("EU B-ORG\rrejects O\r\rPeter B-PER\r", "a.conll:1: carriage return inside a line"),
])
def test_format_errors_name_file_line_and_text(write, text, message):
    with pytest.raises(DataFormatError, match=None) as error:
        read_conll(write("a.conll", text))
    assert message in str(error.value)


def test_invalid_utf8_names_the_line(write):
    with pytest.raises(DataFormatError) as error:
        read_conll(write("a.conll", b"a O\nb\xe9 O\n"))
    assert "a.conll:2: invalid UTF-8 (byte 0xe9)" in str(error.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        read_conll(tmp_path / "nope.conll")
    with pytest.raises(DataFormatError, match="is a directory"):
        read_conll(tmp_path)
