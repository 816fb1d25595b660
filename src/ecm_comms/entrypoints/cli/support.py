"""What the commands share: the container, and refusals as clean exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import click
from flask import Flask

from ecm_comms.container import Container, create_container
from ecm_comms.domain.errors import DomainError, InvalidInput
from ecm_comms.entrypoints.http.app import create_app
from ecm_comms.settings import SettingsError


@contextmanager
def refusals_as_exit(options: Mapping[str, str] | None = None) -> Iterator[None]:
    """A refusal becomes a message on standard error and exit status 1, never a traceback.

    ``options`` names the option of a field the command calls otherwise (``provider_npi``:
    ``--npi``); other fields are their own option (``date_of_birth``: ``--date-of-birth``).
    """
    try:
        yield
    except InvalidInput as error:
        raise click.ClickException("; ".join(_naming_options(error, options or {}))) from error
    except DomainError as error:
        raise click.ClickException("; ".join(error.messages)) from error
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


def _naming_options(error: InvalidInput, options: Mapping[str, str]) -> list[str]:
    """Each message with the option it is about, where the use case named the field; a field
    that is an option already (``--start``) is named by its message itself."""
    return [
        message
        if not field or field.startswith("--")
        else f"{options.get(field) or '--' + field.replace('_', '-')}: {message}"
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
