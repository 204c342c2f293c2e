"""`$avp(...)`: the attribute-value pairs of one script run, a stack of values per name."""

from __future__ import annotations

from runtime.core.script import Value


class AvpStore:
    """`$avp(name)`: a stack of values per name; index 0 is the most recent value.

    `=` pushes (`push`), `:=` replaces every value (`assign`), assigning NULL deletes.
    """

    __slots__ = ("_stacks",)

    def __init__(self) -> None:
        self._stacks: dict[str, list[Value]] = {}

    def push(self, name: str, value: Value) -> None:
        if value is None:
            self._stacks.pop(name, None)
            return
        self._stacks.setdefault(name, []).append(value)

    def assign(self, name: str, value: Value) -> None:
        if value is None:
            self._stacks.pop(name, None)
        else:
            self._stacks[name] = [value]

    def get(self, name: str, index: int = 0) -> Value:
        """The value at `index` (0 most recent, -1 the oldest); None when absent."""
        stack = self._stacks.get(name)
        if not stack:
            return None
        position = len(stack) - 1 - index if index >= 0 else -1 - index
        if 0 <= position < len(stack):
            return stack[position]
        return None

    def get_all(self, name: str) -> list[Value]:
        """Every value, most recent first."""
        return list(reversed(self._stacks.get(name, ())))

    def delete(self, name: str, index: int | None = None) -> None:
        """Delete every value of `name`, or only the one at `index`."""
        if index is None:
            self._stacks.pop(name, None)
            return
        stack = self._stacks.get(name)
        if not stack:
            return
        position = len(stack) - 1 - index if index >= 0 else -1 - index
        if 0 <= position < len(stack):
            del stack[position]
        if not stack:
            del self._stacks[name]

    def count(self, name: str) -> int:
        return len(self._stacks.get(name, ()))

    def names(self) -> list[str]:
        return list(self._stacks)
