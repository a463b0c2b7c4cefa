"""Errors that stop a run. The CLI prints their message on one line and exits 2."""


class AuditError(Exception):
    """A run that cannot be done; the message is the one line the user sees."""


class InputError(AuditError):
    """An input file cannot be read or lacks a required column."""


class RulesetError(AuditError):
    """A ruleset file is invalid; the message names the file and the key path."""
