"""The base of every state and kind the tools print: a str class whose value is the JSON word.

Two bases, one behaviour:
- `Word`, for modules a plain wt-commit loads: a lean str class that needs no `enum` module
  (importing `enum` costs a commit ~4 ms of start-up). Its members are the class's public str
  attributes, each an instance of the class equal to its word: `Outcome.OK == "ok"`,
  `.value`/`.name`, `Outcome("ok") is Outcome.OK` (ValueError on anything else), iteration and
  len() in definition order, str()/format()/repr() as Enum prints them (`Outcome.OK`), JSON
  output of the word, pickling to the member. Type checkers see a `(str, Enum)` class, so mypy
  checks its members as Enum members.
- `WordEnum`, a real `(str, Enum)` for everything else, built on first use (module
  `__getattr__`), so that importing this module does not import `enum`.

`parse` is the one validating constructor of both (ValueError on anything else), so each state
class lists its words and nothing more.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from enum import Enum
    from typing import Any, TypeVar

    E = TypeVar("E", bound="WordEnum")
    W = TypeVar("W", bound="Word")

    class WordEnum(str, Enum):
        @classmethod
        def parse(cls: type[E], text: object) -> E:
            if not isinstance(text, str):
                raise ValueError(f"{cls.__name__}: not a string: {text!r}")
            return cls(text)

    class Word(str, Enum):
        """A lean str-valued enumeration (see the module's docstring)."""

        @classmethod
        def parse(cls: type[W], text: object) -> W:
            if not isinstance(text, str):
                raise ValueError(f"{cls.__name__}: not a string: {text!r}")
            return cls(text)

else:

    def _is_descriptor(value):
        return any(hasattr(value, a) for a in ("__get__", "__set__", "__delete__"))

    class _WordType(type):
        """The metaclass of Word: turns public str class attributes into members."""

        def __new__(mcls, name, bases, namespace):
            words = {}
            for key, value in namespace.items():
                if key.startswith("_") or _is_descriptor(value):
                    continue  # methods, properties, private names: as Enum leaves them
                if type(value) is not str:
                    raise TypeError(f"{name}.{key}: a Word's members are str, not {value!r}")
                words[key] = value
            for key in words:
                del namespace[key]
            cls = super().__new__(mcls, name, bases, namespace)
            members = {}
            by_value = {}
            for base in reversed(cls.__mro__[1:]):
                members.update(getattr(base, "_member_map_", {}))
            if members and words:
                raise TypeError(f"{name}: cannot extend {bases[0].__name__}, it has members")
            for key, value in words.items():
                if value in by_value:  # an alias, as Enum makes it: the first member's name
                    member = by_value[value]
                else:
                    member = str.__new__(cls, value)
                    member._name_ = key
                    member._value_ = value
                    by_value[value] = member
                members[key] = member
                type.__setattr__(cls, key, member)
            cls._member_map_ = members
            cls._value2member_map_ = by_value
            cls._members_ = tuple(by_value.values())
            return cls

        def __call__(cls, value):
            try:
                return cls._value2member_map_[value]
            except (KeyError, TypeError):
                raise ValueError(f"{value!r} is not a valid {cls.__qualname__}") from None

        def __iter__(cls):
            return iter(cls._members_)

        def __reversed__(cls):
            return reversed(cls._members_)

        def __len__(cls):
            return len(cls._members_)

        def __contains__(cls, value):
            if isinstance(value, cls):
                return True
            try:
                return value in cls._value2member_map_
            except TypeError:
                return False

        def __getitem__(cls, name):
            return cls._member_map_[name]

        @property
        def __members__(cls):
            return dict(cls._member_map_)

        def __setattr__(cls, key, value):
            if key in cls.__dict__.get("_member_map_", {}):
                raise AttributeError(f"cannot reassign member {key!r}")
            super().__setattr__(key, value)

        def __repr__(cls):
            return f"<enum {cls.__name__!r}>"

    class Word(str, metaclass=_WordType):
        """A lean str-valued enumeration (see the module's docstring)."""

        @property
        def name(self):
            return self._name_

        @property
        def value(self):
            return self._value_

        def __repr__(self):
            return f"<{type(self).__name__}.{self._name_}: {self._value_!r}>"

        def __str__(self):
            return f"{type(self).__name__}.{self._name_}"

        def __format__(self, spec):
            return format(str(self), spec)

        def __reduce_ex__(self, protocol):
            return type(self), (self._value_,)

        def __copy__(self):
            return self

        def __deepcopy__(self, memo):
            return self

        @classmethod
        def parse(cls, text):
            if not isinstance(text, str):
                raise ValueError(f"{cls.__name__}: not a string: {text!r}")
            return cls(text)

    def __getattr__(name: str) -> Any:
        if name != "WordEnum":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from enum import Enum

        class WordEnum(str, Enum):
            @classmethod
            def parse(cls, text):
                if not isinstance(text, str):
                    raise ValueError(f"{cls.__name__}: not a string: {text!r}")
                return cls(text)

        WordEnum.__module__ = __name__
        globals()["WordEnum"] = WordEnum
        return WordEnum
