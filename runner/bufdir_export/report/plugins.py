"""Plugins: counting rules that a configuration cannot express as data.

A plugin is a class registered under the entry point group
``bufdir_export.plugins`` and named in a configuration's ``plugins``. It is
built once per export with the configuration's options, and begins a
fresh :class:`PluginPass` for each pass over the activities; the pass sees
every row, in the report's order, after the counting rules, and may
overrule their verdict. See ``docs/plugins.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any, Protocol

from pydantic import JsonValue

from .._errors import InvalidColumnConfig
from .column_config import PluginUse

__all__ = [
    "ENTRY_POINT_GROUP",
    "CountingPlugin",
    "PluginFactory",
    "PluginPass",
    "PluginRegistry",
    "Verdict",
]

ENTRY_POINT_GROUP = "bufdir_export.plugins"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an activity counts, and if not, why (written in ``Årsak``)."""

    counted: bool
    reason: str | None = None


class PluginPass(Protocol):
    def judge(self, row: Mapping[str, Any], verdict: Verdict) -> Verdict:
        """The verdict for ``row`` (its fields, as named in the configuration),
        given the counting rules' ``verdict``."""
        ...


class CountingPlugin(Protocol):
    def begin(self) -> PluginPass:
        """A new pass over the export's activities (state starts empty)."""
        ...


# What an entry point names: a class (or function) taking the options.
PluginFactory = Callable[[Mapping[str, JsonValue]], CountingPlugin]


class PluginRegistry:
    """The plugins a runner can use, by name, looked up on first use (building
    a registry reads nothing)."""

    def __init__(self, load: Callable[[], Mapping[str, PluginFactory]]) -> None:
        self._load = load

    @classmethod
    def of(cls, factories: Mapping[str, PluginFactory]) -> PluginRegistry:
        """Exactly these plugins."""
        return cls(lambda: factories)

    @classmethod
    def installed(cls) -> PluginRegistry:
        """Every plugin installed under :data:`ENTRY_POINT_GROUP`."""
        return cls(_installed_factories)

    @cached_property
    def _factories(self) -> Mapping[str, PluginFactory]:
        return dict(self._load())

    def build(self, use: PluginUse, path: str) -> CountingPlugin:
        """The plugin ``use`` names, built with its options; errors name ``path``."""
        factory = self._factories.get(use.name)
        if factory is None:
            installed = ", ".join(sorted(self._factories)) or "none"
            raise InvalidColumnConfig(
                f"{path}.name", f"no plugin {use.name!r} is installed (installed: {installed})"
            )
        try:
            return factory(use.options)
        except (TypeError, ValueError, KeyError) as error:
            raise InvalidColumnConfig(
                f"{path}.options", str(error) or type(error).__name__
            ) from None


def _installed_factories() -> Mapping[str, PluginFactory]:
    found = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}

    def lazy(name: str) -> PluginFactory:
        def build(options: Mapping[str, JsonValue]) -> CountingPlugin:
            factory: PluginFactory = found[name].load()
            return factory(options)

        return build

    return {name: lazy(name) for name in found}
