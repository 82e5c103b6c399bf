import pytest

from ner_rnn.config import load_config, to_dict
from ner_rnn.errors import ConfigError


def test_defaults_yaml_and_overrides_in_order(write):
    path = write("c.yaml", "train: {epochs: 7, batch_size: 4}\nmodel: {encoder: {type: gru}}\n")
    config = load_config(path, ["train.epochs=3", "model.encoder.bidirectional=false"])
    assert config.train.epochs == 3 and config.train.batch_size == 4
    assert config.model.encoder.type == "gru" and config.model.encoder.bidirectional is False
    assert config.model.encoder.hidden_size == 100  # default kept


def test_contract_keys_exist():
    config = load_config(None, ["seed=1", "data.train=a", "data.dev=b", "data.test=c",
                                "train.epochs=1", "train.batch_size=2",
                                "model.encoder.type=rnn", "model.encoder.hidden_size=3",
                                "model.encoder.num_layers=2", "model.encoder.bidirectional=true",
                                "model.head.type=softmax"])
    assert (config.seed, config.data.test, config.model.encoder.num_layers) == (1, "c", 2)


@pytest.mark.parametrize("yaml_text, message", [
    ("model: {encoder: {hiden_size: 3}}",
     "model.encoder.hiden_size: unknown key; did you mean hidden_size?"),
    ("train: {epochs: three}", "train.epochs: expected an integer, got 'three'"),
    ("train: {epochs: 2.5}", "train.epochs: expected an integer, got 2.5"),
    ("train: {epochs: true}", "train.epochs: expected an integer, got True"),
    ("train: {batch_size: 0}", "train.batch_size: expected a value >= 1, got 0"),
    ("model: {dropout: -0.1}", "model.dropout: expected a value >= 0.0, got -0.1"),
    ("model: {dropout: 1}", "model.dropout: expected a value < 1.0, got 1.0"),
    ("model: {encoder: {hidden_size: 0}}", "model.encoder.hidden_size: expected a value >= 1"),
    ("model: {encoder: {type: transformer}}",
     "model.encoder.type: expected one of rnn, gru, lstm, got 'transformer'"),
    ("model: {encoder: 3}", "model.encoder: expected a mapping of sub-keys, got 3"),
    ("zzz: 1", "zzz: unknown key; valid keys: seed, device"),
    ("- a\n- b", "expected a mapping of config keys at the top level"),
    ("train: {epochs: [", "c.yaml:1:"),
    ('data: {train: "a\\0b"}', r"data.train: expected a string without NUL, got 'a\x00b'"),
    ('output_dir: "m\\0"', "output_dir: expected a string without NUL"),
])
def test_bad_values_name_the_dotted_key(write, yaml_text, message):
    with pytest.raises(ConfigError) as error:
        load_config(write("c.yaml", yaml_text))
    assert message in str(error.value)


def test_override_of_missing_key_is_refused():
    with pytest.raises(ConfigError, match="--set train.epoch: unknown key; did you mean epochs"):
        load_config(None, ["train.epoch=3"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(None, ["train.epochs"])
    with pytest.raises(ConfigError, match="seed has no sub-keys"):
        load_config(None, ["seed.x=1"])


def test_nullable_keys_accept_null():
    config = load_config(None, ["train.patience=null", "train.clip_grad_norm=null"])
    assert config.train.patience is None and config.train.clip_grad_norm is None


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "none.yaml")


def test_numbers_in_exponent_notation_are_numbers(write):
    """YAML 1.1 reads 1e-3 (no dot) and 1.0e3 (no exponent sign) as strings; a number
    key takes them as the numbers everyone means. Text keys keep them as text."""
    config = load_config(write("c.yaml", "train: {lr: 1e-3, weight_decay: 5E-4}\n"),
                         ["train.clip_grad_norm=1.0e1", "output_dir=1e3"])
    assert (config.train.lr, config.train.weight_decay) == (0.001, 0.0005)
    assert (config.train.clip_grad_norm, config.output_dir) == (10.0, "1e3")
    with pytest.raises(ConfigError, match="train.lr: expected a number, got '1e'"):
        load_config(None, ["train.lr=1e"])
    with pytest.raises(ConfigError, match="train.lr: expected a finite number, got inf"):
        load_config(None, ["train.lr=1e999"])


def test_document_context_off_is_null_and_an_old_zero_still_reads_as_off(write):
    """`model.document_context` says "off" with null; 0, its old spelling, is read (and
    saved) as null, from a YAML file as from --set."""
    assert load_config(None).model.document_context is None
    assert load_config(None, ["model.document_context=0"]).model.document_context is None
    config = load_config(write("c.yaml", "model: {document_context: 0}"))
    assert config.model.document_context is None
    assert to_dict(config)["model"]["document_context"] is None
    assert load_config(None, ["model.document_context=64"]).model.document_context == 64


@pytest.mark.parametrize("value, message", [
    ("-1", "model.document_context: expected a value >= 1, got -1"),
    ("false", "model.document_context: expected an integer or null, got False"),
    ("0.0", "model.document_context: expected an integer or null, got 0.0"),
])
def test_document_context_refuses_what_is_neither_a_size_nor_off(value, message):
    with pytest.raises(ConfigError) as error:
        load_config(None, [f"model.document_context={value}"])
    assert str(error.value) == message
