"""Errors that name the place: file, key path or row, value, and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.file}:{where} {self.message}"


class InputError(ValueError):
    """Bad input from a user (a file, an option, an argument): reported without a traceback."""


class ScenarioError(InputError):
    """A scenario file, or a CSV file it names, is not valid.

    ``problems`` lists every problem found; ``str(err)`` shows one per line.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # keep the problems when raised in a worker process
        return (type(self), (self.problems,))


class ParameterWarning(UserWarning):
    """A scenario value outside its plausible range (accepted; most often a value in another unit)."""
