"""The project's expected errors: what a user can act on, printed by `hm` as one line.

Every failure that is the user's input or an unfinished step derives from :class:`HMError`; `hm`
catches it, prints ``hm <command>: <message>`` to stderr without a traceback (``-v`` shows it) and
exits with the class's ``exit_code``: 2 for bad input, 1 for a failed or unfinished run. Anything
else is a bug and keeps its traceback. The classes also derive from the builtin a caller would
catch (ValueError, FileNotFoundError, RuntimeError).
"""
from __future__ import annotations

BAD_INPUT, FAILED_RUN = 2, 1


class HMError(Exception):
    """An expected error with a message that says what to do."""

    exit_code = FAILED_RUN

    def one_line(self) -> str:
        """The message on one line: a multi-line message's lines (a list's bullets) joined by '; '."""
        head, *rest = [line.strip().removeprefix("- ") for line in str(self).splitlines() if line.strip()] or [""]
        return f"{head}{' ' if head.endswith(':') else '; '}{'; '.join(rest)}" if rest else head


class InputError(HMError, ValueError):
    """Bad input: a raw data file, a command-line argument or a stage setting."""

    exit_code = BAD_INPUT


class SettingError(InputError):
    """A stage setting that does not exist or has an impossible value."""


class MissingOutputError(HMError, FileNotFoundError):
    """A stage's output is not there (or incomplete): the message names the stage to run first."""


class RunError(HMError, RuntimeError):
    """A step of the chain failed."""
