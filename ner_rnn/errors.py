"""Errors a user can cause. The CLI prints them as one `error: ...` line."""


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
