"""The one place where adapters meet ports.

Build it with ``create_container()`` (settings from the environment) or
``create_container(environ={...})``; swap any provider with ``container.<name>.override(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dependency_injector import containers, providers

from ecm_comms.adapters.simulated_gateway import DEFAULT_SENDER, SimulatedGateway
from ecm_comms.adapters.sql.directories import SqlPatientDirectory, SqlUserDirectory
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.unit_of_work import SqlUnitOfWork
from ecm_comms.adapters.system_clock import SystemClock
from ecm_comms.adapters.twilio_gateway import make_twilio_gateway
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.accounts import (
    AuthenticateHandler,
    IssueTokenHandler,
    RegisterUserHandler,
    UpsertPatientHandler,
)
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from ecm_comms.settings import settings_from_environ


def _sender(from_number: str | None) -> PhoneNumber:
    return PhoneNumber.parse(from_number) if from_number else DEFAULT_SENDER


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(make_engine, config.database_url)

    uow = providers.Factory(SqlUnitOfWork, engine)
    patient_directory = providers.Singleton(SqlPatientDirectory, engine, clock.provided.now)
    patient_registry = patient_directory
    user_directory = providers.Singleton(SqlUserDirectory, engine, clock.provided.now)
    user_registry = user_directory

    gateway = providers.Selector(
        config.gateway,
        simulated=providers.Singleton(
            SimulatedGateway, providers.Callable(_sender, config.twilio.from_number)
        ),
        twilio=providers.Singleton(
            make_twilio_gateway,
            account_sid=config.twilio.account_sid,
            auth_token=config.twilio.auth_token,
            from_number=config.twilio.from_number,
            api_base_url=config.twilio.api_base_url,
        ),
    )

    send_sms = providers.Factory(
        SendSmsHandler,
        uow=uow,
        patients=patient_directory,
        gateway=gateway,
        clock=clock,
        default_region=config.default_region,
    )
    initiate_call = providers.Factory(
        InitiateCallHandler,
        uow=uow,
        patients=patient_directory,
        gateway=gateway,
        clock=clock,
        default_region=config.default_region,
    )
    authenticate = providers.Factory(AuthenticateHandler, users=user_directory)
    register_user = providers.Factory(
        RegisterUserHandler, users=user_registry, default_region=config.default_region
    )
    issue_token = providers.Factory(IssueTokenHandler, users=user_registry)
    upsert_patient = providers.Factory(
        UpsertPatientHandler, patients=patient_registry, default_region=config.default_region
    )


def create_container(environ: Mapping[str, str] | None = None, **overrides: Any) -> Container:
    """A container configured from ``environ`` (default: the process environment).

    ``overrides`` replace settings by key, e.g. ``create_container(database_url="sqlite://")``.
    """
    container = Container()
    container.config.from_dict({**settings_from_environ(environ), **overrides})
    return container
