"""The base of every state and kind the tools print: a str Enum whose value is the JSON word.

`parse` is the one validating constructor (ValueError on anything else), so each state enum
lists its words and nothing more.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound="WordEnum")


class WordEnum(str, Enum):
    @classmethod
    def parse(cls: type[E], text: object) -> E:
        if not isinstance(text, str):
            raise ValueError(f"{cls.__name__}: not a string: {text!r}")
        return cls(text)
