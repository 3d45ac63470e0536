"""What the task board's value classes used of `@dataclass(frozen=True)`, for classes with
`__slots__` and an explicit `__init__`: equality and hashing over the fields, a repr naming
them, and a copy with some fields changed. Creating a dataclass costs ~0.8 ms of CPU at import
and importing `dataclasses` 19 ms (inspect, ast, tokenize): `git wt task next`/`claim` are on
the hot path (docs/hot-path.md)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    V = TypeVar("V", bound="Value")


class Value:
    """Base of a value class: the fields are its `__slots__`, in order, each a keyword of its
    `__init__`; those named in `NOT_COMPARED` take no part in equality or hashing (as
    `field(compare=False)`)."""

    __slots__: tuple[str, ...] = ()
    NOT_COMPARED: tuple[str, ...] = ()

    def _key(self) -> tuple[Any, ...]:
        skip = self.NOT_COMPARED
        return tuple(getattr(self, name) for name in self.__slots__ if name not in skip)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Value)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({body})"

    def replace(self: V, **changes: Any) -> V:
        """A copy with `changes` (`dataclasses.replace`: unknown names are a TypeError)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        cls: Any = type(self)
        new: V = cls(**values)
        return new
