"""What the commands share: the container, and refusals as clean exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast

import click
from flask import Flask

from ecm_comms.container import Container
from ecm_comms.domain.errors import DomainError, InvalidInput
from ecm_comms.entrypoints.http.app import create_app
from ecm_comms.settings import Settings, SettingsError, settings_from_environ


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


def settings_of(ctx: click.Context) -> Settings:
    """The settings, read from the environment once per invocation."""
    ctx.ensure_object(dict)
    if "settings" not in ctx.obj:
        with refusals_as_exit():
            ctx.obj["settings"] = settings_from_environ()
    return cast(Settings, ctx.obj["settings"])


def container_of(ctx: click.Context, **overrides: Any) -> Container:
    """The command's container, on its settings (``overrides`` replace some of them)."""
    ctx.ensure_object(dict)
    built = ctx.obj.get("container")
    if built is None:
        settings = replace(settings_of(ctx), **overrides)
        built = ctx.obj["container"] = Container(settings=settings)
    return cast(Container, built)


def app_factory(settings: Settings) -> Callable[[], Flask]:
    """Builds the app (and its own container) where it is called: in each server worker."""
    return lambda: create_app(Container(settings=settings))
