"""The one place where adapters meet ports.

Build it with ``create_container()`` (settings from the environment) or
``create_container(environ={...})``; swap any provider with ``container.<name>.override(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy import Engine

from ecm_comms.adapters.simulated_gateway import DEFAULT_SENDER, SimulatedGateway
from ecm_comms.adapters.sql.directories import SqlPatientDirectory, SqlUserDirectory
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.idempotency import SqlIdempotencyKeys
from ecm_comms.adapters.sql.unit_of_work import SqlUnitOfWork
from ecm_comms.adapters.system_clock import SystemClock
from ecm_comms.adapters.twilio_gateway import make_twilio_gateway
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.use_cases.accounts import (
    AuthenticateHandler,
    IssueTokenHandler,
    RegisterUserHandler,
    RevokeTokenHandler,
    UpsertPatientHandler,
)
from ecm_comms.domain.use_cases.apply_status import ApplyCallStatusHandler, ApplySmsStatusHandler
from ecm_comms.domain.use_cases.history import (
    GetCallHandler,
    GetSmsHandler,
    ListCommunicationsHandler,
)
from ecm_comms.domain.use_cases.idempotency import (
    BeginIdempotentRequestHandler,
    FinishIdempotentRequestHandler,
    PruneIdempotencyKeysHandler,
    ReleaseIdempotentRequestHandler,
)
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.record_inbound import (
    RecordInboundCallHandler,
    RecordInboundSmsHandler,
)
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from ecm_comms.ports.directories import (
    PatientDirectory,
    PatientRegistry,
    UserDirectory,
    UserRegistry,
)
from ecm_comms.settings import settings_from_environ


def _sender(from_number: str | None) -> PhoneNumber:
    return PhoneNumber.parse(from_number) if from_number else DEFAULT_SENDER


def _engine(url: str, pool: dict[str, int]) -> Engine:
    return make_engine(url, **pool)


def _optional_phone(number: str | None, region: str) -> PhoneNumber | None:
    return PhoneNumber.parse(number, region) if number else None


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    clinic_number = providers.Singleton(
        _optional_phone, config.clinic_number, config.default_region
    )
    engine = providers.Singleton(_engine, config.database_url, config.database_pool)

    uow = providers.Factory(SqlUnitOfWork, engine)
    sql_patients = providers.Singleton(SqlPatientDirectory, engine, clock.provided.now)
    sql_users = providers.Singleton(SqlUserDirectory, engine, clock.provided.now)
    # Separate seams over one default: a host may override who its patients are (the
    # directory) and still register patients here, or neither.
    patient_directory: providers.Dependency[PatientDirectory] = providers.Dependency(
        default=sql_patients
    )
    patient_registry: providers.Dependency[PatientRegistry] = providers.Dependency(
        default=sql_patients
    )
    user_directory: providers.Dependency[UserDirectory] = providers.Dependency(default=sql_users)
    user_registry: providers.Dependency[UserRegistry] = providers.Dependency(default=sql_users)

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
            public_base_url=config.public_base_url,
            unavailable_message=config.call_unavailable_message,
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
        clinic_number=clinic_number,
    )
    record_inbound_sms = providers.Factory(
        RecordInboundSmsHandler,
        uow=uow,
        patients=patient_directory,
        clock=clock,
        default_region=config.default_region,
    )
    record_inbound_call = providers.Factory(
        RecordInboundCallHandler,
        uow=uow,
        patients=patient_directory,
        users=user_directory,
        clock=clock,
        default_region=config.default_region,
        clinic_number=clinic_number,
    )
    apply_sms_status = providers.Factory(ApplySmsStatusHandler, uow=uow, clock=clock)
    apply_call_status = providers.Factory(ApplyCallStatusHandler, uow=uow, clock=clock)
    get_sms = providers.Factory(GetSmsHandler, uow=uow)
    get_call = providers.Factory(GetCallHandler, uow=uow)
    list_communications = providers.Factory(
        ListCommunicationsHandler, uow=uow, patients=patient_directory
    )
    authenticate = providers.Factory(AuthenticateHandler, users=user_directory)
    register_user = providers.Factory(
        RegisterUserHandler, users=user_registry, default_region=config.default_region
    )
    issue_token = providers.Factory(IssueTokenHandler, users=user_registry)
    revoke_token = providers.Factory(RevokeTokenHandler, users=user_registry)

    idempotency_keys = providers.Singleton(SqlIdempotencyKeys, engine)
    begin_idempotent_request = providers.Factory(
        BeginIdempotentRequestHandler, keys=idempotency_keys, clock=clock
    )
    finish_idempotent_request = providers.Factory(
        FinishIdempotentRequestHandler, keys=idempotency_keys
    )
    release_idempotent_request = providers.Factory(
        ReleaseIdempotentRequestHandler, keys=idempotency_keys
    )
    prune_idempotency_keys = providers.Factory(
        PruneIdempotencyKeysHandler, keys=idempotency_keys, clock=clock
    )
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
