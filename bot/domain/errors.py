"""Errors a user can cause, each with a stable code and a message that says how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Base of every error whose message is safe and useful to show to a user."""

    code = "error"

    def __init__(self, message: str, *, markup: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # True when the message holds mentions or links the bot built (`<#C1>`), with any user
        # text in it escaped already: Slack shows it as it is instead of escaping it again.
        self.markup = markup


@dataclass(frozen=True)
class Candidate:
    """A suggestion offered back to the user: the value to use and a readable label."""

    value: str
    label: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form."""
        return {"value": self.value, "label": self.label}


class QuestionError(BotError):
    """A question that cannot be answered as asked; `candidates` say what was probably meant."""

    def __init__(
        self,
        code: str,
        message: str,
        candidates: tuple[Candidate, ...] = (),
        phrase: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.candidates = candidates
        self.phrase = phrase  # the part of the question that could not be resolved

    def to_dict(self) -> dict[str, object]:
        """Return the JSON error object."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "candidates": [c.to_dict() for c in self.candidates],
            }
        }


@dataclass
class FileError:
    """One problem in an input file: where it is and what is wrong."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class InvalidFile(BotError):
    """A rule-table or customer file with errors; nothing from it was applied."""

    code = "invalid_file"

    def __init__(self, errors: list[FileError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class NotFound(BotError):
    """A named rule, customer or revision does not exist."""

    code = "not_found"
