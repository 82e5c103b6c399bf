"""Errors a user can cause. The CLI prints them as one `error: ...` line."""

import reprlib


class NerError(Exception):
    """Base class for every error caused by input, configuration or files."""


class ConfigError(NerError):
    """A configuration key is unknown, has the wrong type or an invalid value."""


class DataFormatError(NerError):
    """A corpus or input file is missing or malformed; the message names file and line."""


class ModelError(NerError):
    """A model directory is missing, incomplete or incompatible."""


class Interrupted(NerError):
    """The user stopped training (Ctrl-C); the message says how to resume."""


def excerpt(value: object, limit: int = 80) -> str:
    """`repr(value)` cut to at most `limit` characters, so an error stays one short line
    whatever a file or a config holds (a 100 MB line, an expanded YAML alias bomb); large
    containers are never rendered whole."""
    return shorten(_REPR.repr(value), limit)


def shorten(text: str, limit: int = 80) -> str:
    """`text` itself when short, else its start and `...`."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
