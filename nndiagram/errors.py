"""One exception hierarchy for the whole tool.

Policy: ``SpecError`` means the user's input is bad (exit 2); ``InvalidNetworkError`` means the
input was read but does not describe a valid network, or a check failed (exit 1);
``GraphvizError`` means the external ``dot`` program is missing or failed (exit 2). Library code
raises these and nothing else on purpose; ``cli.py`` turns them into one line on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass


class NNDiagramError(Exception):
    """Base class of every error nndiagram raises on purpose."""

    exit_code = 2


@dataclass(frozen=True)
class Location:
    """Where in a spec file something is: 1-based line and column, and the key path."""

    path: str = "<spec>"
    line: int | None = None
    column: int | None = None
    key: str | None = None

    def prefix(self) -> str:
        return f"{self.path}:{self.line or 1}:{self.column or 1}"


class SpecError(NNDiagramError):
    """The input is malformed: unreadable, of the wrong type, or outside the allowed values."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.location = Location(path or "<spec>", line, column, key)
        super().__init__(str(self))

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def column(self) -> int | None:
        return self.location.column

    @property
    def key(self) -> str | None:
        return self.location.key

    def __str__(self) -> str:
        key = f"{self.location.key}: " if self.location.key else ""
        return f"{self.location.prefix()}: error: {key}{self.message}"


class UsageError(NNDiagramError):
    """The command line or a Python call was used wrongly (bad option, shape mismatch)."""

    exit_code = 2


class InvalidNetworkError(NNDiagramError):
    """The spec was read, but it is not a valid network (e.g. not fully connected)."""

    exit_code = 1

    def __init__(self, message: str, *, path: str = "<spec>", problems: tuple[str, ...] = ()):
        self.path = path
        self.problems = problems
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.path}:1:1: error: {self.args[0]}"


class GraphvizError(NNDiagramError):
    """Graphviz failed: its stderr is in the message."""

    exit_code = 2


class ExecutableNotFound(GraphvizError):
    """The ``dot`` binary is not on PATH."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz 'dot' was not found on PATH; install it: "
            "Debian/Ubuntu 'apt-get install graphviz', macOS 'brew install graphviz', "
            "conda 'conda install -c conda-forge graphviz'"
        )
