import pytest

from ner_rnn.data.tokenize import split_whitespace, tokenize


@pytest.mark.parametrize("text, tokens", [
    ("The U.S. economy grew.", ["The", "U.S.", "economy", "grew", "."]),
    ("He paid 1,000.5 dollars, didn't he?",
     ["He", "paid", "1,000.5", "dollars", ",", "did", "n't", "he", "?"]),
    ("John's car", ["John", "'s", "car"]),
    ("Mr. O'Neill of AT&T won 2-1...", ["Mr.", "O'Neill", "of", "AT&T", "won", "2-1", "..."]),
    ("a state-of-the-art (new) idea", ["a", "state-of-the-art", "(", "new", ")", "idea"]),
    ("Zürich 東京 😀", ["Zürich", "東京", "😀"]),
])
def test_rules(text, tokens):
    assert [t for t, _, _ in tokenize(text)] == tokens


@pytest.mark.parametrize("split", [tokenize, split_whitespace])
def test_offsets_slice_back_to_tokens(split):
    text = "  Café  Zoë's e\u0301  naïve,  U.S.-based\t☃ "
    for token, start, end in split(text):
        assert text[start:end] == token
