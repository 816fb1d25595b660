"""What the commands share: the container, and refusals as clean exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import click
from flask import Flask

from ecm_comms.container import Container, create_container
from ecm_comms.domain.errors import DomainError, InvalidInput
from ecm_comms.entrypoints.http.app import create_app
from ecm_comms.settings import SettingsError


@contextmanager
def refusals_as_exit() -> Iterator[None]:
    """A refusal becomes a message on standard error and exit status 1, never a traceback."""
    try:
        yield
    except InvalidInput as error:
        raise click.ClickException("; ".join(_naming_options(error))) from error
    except DomainError as error:
        raise click.ClickException("; ".join(error.messages)) from error
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


def _naming_options(error: InvalidInput) -> list[str]:
    """Each message with the option it is about, where the use case named the field."""
    return [
        f"--{field.replace('_', '-')}: {message}" if field else message
        for field, message in zip(error.fields, error.messages, strict=True)
    ]


def container_of(ctx: click.Context, **overrides: Any) -> Container:
    """The command's container, configured from the environment once per invocation."""
    ctx.ensure_object(dict)
    built = ctx.obj.get("container")
    if built is None:
        with refusals_as_exit():
            built = ctx.obj["container"] = create_container(**overrides)
    return cast(Container, built)


def app_factory(**overrides: Any) -> Callable[[], Flask]:
    """Builds the app (and its own container) where it is called: in each server worker."""
    return lambda: create_app(create_container(**overrides))
