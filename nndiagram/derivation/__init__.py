"""The derivation checker: a file of steps in matrix notation (``expr``: a whitelisted grammar),
evaluated numerically (``evaluation``) and proven step by step (``checker``)."""

from .checker import (
    check_derivation_file,
    derivation_fence_format,
    derivation_fence_validator,
    parse_derivation,
)

__all__ = [
    "check_derivation_file",
    "derivation_fence_format",
    "derivation_fence_validator",
    "parse_derivation",
]
