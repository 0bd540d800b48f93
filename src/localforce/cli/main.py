"""The ``localforce`` command: a thin Typer layer over bootstrap and the directory.

Each command's module is imported when the command runs (or when help lists it): ``localforce
serve`` then imports little more than Typer before it hands over to the server's own process
(cli/serve.py), whose workers so start without the rest of the CLI.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

from localforce import __version__
from localforce.cli.common import DEBUG

#: Command name -> (module, attribute): a Typer app (a group of commands) or a function.
COMMANDS = {
    "serve": ("localforce.cli.serve", "serve"),
    "init": ("localforce.cli.store", "init"),
    "seed": ("localforce.cli.store", "seed"),
    "whoami": ("localforce.cli.login", "whoami"),
    "query": ("localforce.cli.login", "query"),
    "logout": ("localforce.cli.login", "logout"),
    "apps": ("localforce.cli.apps", "app"),
    "users": ("localforce.cli.users", "app"),
    "org": ("localforce.cli.org", "app"),
    "audit": ("localforce.cli.audit", "app"),
    "tokens": ("localforce.cli.audit", "tokens_app"),
    "objects": ("localforce.cli.objects", "app"),
    "soql": ("localforce.cli.objects", "soql_app"),
    "profiles": ("localforce.cli.store", "profiles_app"),
    "db": ("localforce.cli.store", "db_app"),
    "keys": ("localforce.cli.keys", "app"),
    "login": ("localforce.cli.login", "app"),
}


class Commands(TyperGroup):
    """The top-level group: the commands of ``COMMANDS`` built on first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Lazy(self.commands)


class _Lazy(MutableMapping[str, Any]):
    """The group's commands by name: those of ``COMMANDS`` are listed (help, a typo's
    suggestions) without being imported, and imported when looked up."""

    def __init__(self, built: Mapping[str, Any]) -> None:
        self._built = dict(built)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            module, attribute = COMMANDS[name]  # KeyError: no such command
            self._built[name] = _click_command(
                name, getattr(importlib.import_module(module), attribute))
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS.keys() | self._built.keys())

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]


def _click_command(name: str, target: Any) -> Any:
    """A Typer app's group, or a function's command, as the top-level ``name``."""
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


app = typer.Typer(cls=Commands, no_args_is_help=True, add_completion=False,
                  help="A Salesforce-compatible org you run yourself.")


@app.callback()
def main(debug: bool = typer.Option(False, "--debug",
                                    help="Show the traceback of an error.")) -> None:
    """A Salesforce-compatible org you run yourself."""
    DEBUG["on"] = debug


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"localforce {__version__}")


if __name__ == "__main__":  # pragma: no cover
    app()
