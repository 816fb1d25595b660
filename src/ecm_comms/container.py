"""The one place where adapters meet ports.

Build it with ``create_container()`` (settings from the environment) or
``create_container(environ={...})``; swap any provider with ``container.<name>.override(...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy import Engine

from ecm_comms.adapters.metered_gateway import MeteredGateway
from ecm_comms.adapters.simulated_gateway import DEFAULT_SENDER, SimulatedGateway
from ecm_comms.adapters.sql.audit import SqlAuditViews
from ecm_comms.adapters.sql.campaigns import SqlCampaignViews
from ecm_comms.adapters.sql.clinics import SqlClinicDirectory
from ecm_comms.adapters.sql.directories import SqlPatientDirectory, SqlUserDirectory
from ecm_comms.adapters.sql.ecm_records import SqlActivityViews
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.idempotency import SqlIdempotencyKeys
from ecm_comms.adapters.sql.prtf_reports import SqlPrtfReports
from ecm_comms.adapters.sql.readiness import SqlReadiness
from ecm_comms.adapters.sql.reports import SqlReportViews
from ecm_comms.adapters.sql.unit_of_work import SqlUnitOfWork
from ecm_comms.adapters.sql.views import SqlCommunicationViews, SqlConsentViews
from ecm_comms.adapters.system_clock import SystemClock
from ecm_comms.adapters.task_queue import HueyQueue
from ecm_comms.adapters.twilio_gateway import MAX_ATTEMPTS, TwilioGateway, twilio_client
from ecm_comms.domain.use_cases.accounts import (
    AuthenticateHandler,
    IssueTokenHandler,
    RegisterUserHandler,
    RevokeTokenHandler,
    SetUserRoleHandler,
    UpsertPatientHandler,
)
from ecm_comms.domain.use_cases.apply_status import ApplyStatusHandler
from ecm_comms.domain.use_cases.audit import AuditRecordHandler
from ecm_comms.domain.use_cases.automated_sending import (
    DispatchDueHandler,
    SendAutomatedSmsHandler,
)
from ecm_comms.domain.use_cases.campaigns import (
    CancelCampaignHandler,
    CreateCampaignHandler,
    GetCampaignHandler,
    ListCampaignRecipientsHandler,
)
from ecm_comms.domain.use_cases.cancel_sms import CancelSmsHandler
from ecm_comms.domain.use_cases.clinics import (
    AddClinicNumberHandler,
    RemoveClinicNumberHandler,
    UpsertClinicHandler,
)
from ecm_comms.domain.use_cases.consent import GetConsentHandler, RecordConsentHandler
from ecm_comms.domain.use_cases.ecm_records import ListActivitiesHandler, ListEventsHandler
from ecm_comms.domain.use_cases.history import GetCommunicationHandler, ListCommunicationsHandler
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.outreach_detail import OutreachDetailHandler
from ecm_comms.domain.use_cases.prtf_reports import (
    DownloadPrtfReportHandler,
    GeneratePrtfReportHandler,
    GetPrtfReportHandler,
    ListPrtfReportsHandler,
)
from ecm_comms.domain.use_cases.record_inbound import (
    RecordInboundCallHandler,
    RecordInboundSmsHandler,
)
from ecm_comms.domain.use_cases.schedule_sms import ScheduleSmsHandler
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from ecm_comms.ports.clinics import ClinicDirectory, ClinicRegistry
from ecm_comms.ports.directories import (
    PatientDirectory,
    PatientRegistry,
    UserDirectory,
    UserRegistry,
)
from ecm_comms.ports.gateway import MessagingGateway
from ecm_comms.ports.metrics import UNCOUNTED, ServiceMetrics
from ecm_comms.ports.readiness import ReadinessProbe
from ecm_comms.ports.send_queue import SendQueue
from ecm_comms.settings import GatewayKind, Settings, SettingsError, settings_from_environ

log = logging.getLogger(__name__)


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url, **settings.database_pool.engine_options())


def _metrics(settings: Settings, queue: Callable[[], SendQueue]) -> ServiceMetrics:
    if not settings.metrics_enabled:
        return UNCOUNTED
    # prometheus-client chooses between per-process counters and the server's shared files when
    # it is first imported, so it is imported here, in a process that knows which it needs.
    from ecm_comms.adapters.prometheus_metrics import PrometheusMetrics

    return PrometheusMetrics(backlog=lambda: queue().backlog())


def _provider_gateway(settings: Settings, attempts: int = MAX_ATTEMPTS) -> MessagingGateway:
    twilio = settings.twilio
    if settings.gateway is GatewayKind.SIMULATED:
        return SimulatedGateway(twilio.from_number or DEFAULT_SENDER)
    if missing := twilio.missing():
        raise SettingsError(f"the Twilio gateway needs {', '.join(missing)}")
    assert twilio.account_sid is not None
    assert twilio.auth_token is not None
    assert twilio.from_number is not None
    if not settings.public_base_url:
        log.warning(
            "ECM_PUBLIC_BASE_URL is not set: Twilio will not report statuses of outbound SMS "
            "and calls, and records stay at the status Twilio first answered"
        )
    return TwilioGateway(
        twilio_client(
            twilio.account_sid, twilio.auth_token, twilio.api_base_url, attempts=attempts
        ),
        twilio.from_number,
        public_base_url=settings.public_base_url,
        unavailable_message=settings.call_unavailable_message,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    region = settings.provided.default_region
    clinic_number = settings.provided.clinic_number

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(_engine, settings)

    uow = providers.Factory(SqlUnitOfWork, engine)
    views = providers.Singleton(SqlCommunicationViews, engine)
    consent_views = providers.Singleton(SqlConsentViews, engine)
    report_views = providers.Singleton(SqlReportViews, engine)
    activity_views = providers.Singleton(SqlActivityViews, engine)
    audit_views = providers.Singleton(SqlAuditViews, engine)
    campaign_views = providers.Singleton(SqlCampaignViews, engine)
    idempotency_keys = providers.Singleton(SqlIdempotencyKeys, engine)
    prtf_reports = providers.Singleton(SqlPrtfReports, engine)
    sql_patients = providers.Singleton(SqlPatientDirectory, engine, clock.provided.now)
    sql_users = providers.Singleton(SqlUserDirectory, engine, clock.provided.now)
    sql_clinics = providers.Singleton(SqlClinicDirectory, engine, clock.provided.now)
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
    clinic_directory: providers.Dependency[ClinicDirectory] = providers.Dependency(
        default=sql_clinics
    )
    clinic_registry: providers.Dependency[ClinicRegistry] = providers.Dependency(
        default=sql_clinics
    )

    # Automated SMS: the service records and queues them, the workers send them. The queue
    # lives in the records' database: every service and worker on one database shares it.
    task_queue = providers.Singleton(HueyQueue.at, settings.provided.database_url)
    send_queue: providers.Dependency[SendQueue] = providers.Dependency(default=task_queue)

    metrics = providers.Singleton(_metrics, settings, send_queue.provider)
    readiness: providers.Dependency[ReadinessProbe] = providers.Dependency(
        default=providers.Singleton(SqlReadiness, engine)
    )

    # Tries of a send that promises nothing was done (429, 503, no connection) by the Twilio
    # client: a request retries at once; a worker tries once, its queue retries with backoff.
    gateway_attempts = providers.Object(MAX_ATTEMPTS)
    provider_gateway = providers.Singleton(_provider_gateway, settings, gateway_attempts)
    gateway = providers.Singleton(MeteredGateway, provider_gateway, metrics)

    send_sms = providers.Factory(
        SendSmsHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        gateway=gateway,
        clock=clock,
        default_region=region,
        metrics=metrics,
    )
    initiate_call = providers.Factory(
        InitiateCallHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        gateway=gateway,
        clock=clock,
        default_region=region,
        clinic_number=clinic_number,
    )
    record_inbound_sms = providers.Factory(
        RecordInboundSmsHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        clock=clock,
        default_region=region,
        metrics=metrics,
    )
    record_inbound_call = providers.Factory(
        RecordInboundCallHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        users=user_directory,
        clock=clock,
        default_region=region,
        clinic_number=clinic_number,
        metrics=metrics,
    )
    apply_status = providers.Factory(
        ApplyStatusHandler, uow=uow, clinics=clinic_directory, clock=clock, metrics=metrics
    )
    get_communication = providers.Factory(GetCommunicationHandler, views=views)
    list_communications = providers.Factory(
        ListCommunicationsHandler, views=views, patients=patient_directory
    )
    list_activities = providers.Factory(
        ListActivitiesHandler, views=activity_views, patients=patient_directory
    )
    list_events = providers.Factory(
        ListEventsHandler,
        views=activity_views,
        patients=patient_directory,
        clinics=clinic_directory,
        encounter_min_call_seconds=settings.provided.encounter_min_call_seconds,
    )
    authenticate = providers.Factory(AuthenticateHandler, users=user_directory)
    register_user = providers.Factory(
        RegisterUserHandler, users=user_registry, default_region=region
    )
    issue_token = providers.Factory(IssueTokenHandler, users=user_registry)
    revoke_token = providers.Factory(RevokeTokenHandler, users=user_registry)
    set_user_role = providers.Factory(SetUserRoleHandler, users=user_registry)
    upsert_patient = providers.Factory(
        UpsertPatientHandler, patients=patient_registry, default_region=region
    )
    upsert_clinic = providers.Factory(
        UpsertClinicHandler, clinics=clinic_registry, default_region=region
    )
    add_clinic_number = providers.Factory(
        AddClinicNumberHandler, clinics=clinic_registry, default_region=region
    )
    remove_clinic_number = providers.Factory(
        RemoveClinicNumberHandler, clinics=clinic_registry, default_region=region
    )
    get_consent = providers.Factory(
        GetConsentHandler, views=consent_views, clinics=clinic_directory, default_region=region
    )
    record_consent = providers.Factory(
        RecordConsentHandler,
        uow=uow,
        views=consent_views,
        clinics=clinic_directory,
        clock=clock,
        default_region=region,
        metrics=metrics,
    )
    outreach_detail = providers.Factory(
        OutreachDetailHandler,
        views=report_views,
        clinics=clinic_directory,
        patients=patient_directory,
        users=user_directory,
        encounter_min_call_seconds=settings.provided.encounter_min_call_seconds,
    )
    audit_record = providers.Factory(AuditRecordHandler, views=audit_views)
    generate_prtf_report = providers.Factory(
        GeneratePrtfReportHandler,
        views=report_views,
        reports=prtf_reports,
        clinics=clinic_directory,
        patients=patient_directory,
        users=user_directory,
        clock=clock,
        encounter_min_call_seconds=settings.provided.encounter_min_call_seconds,
        default_region=region,
    )
    list_prtf_reports = providers.Factory(ListPrtfReportsHandler, reports=prtf_reports)
    get_prtf_report = providers.Factory(GetPrtfReportHandler, reports=prtf_reports)
    download_prtf_report = providers.Factory(DownloadPrtfReportHandler, reports=prtf_reports)

    schedule_sms = providers.Factory(
        ScheduleSmsHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        gateway=gateway,
        queue=send_queue,
        clock=clock,
        default_region=region,
        metrics=metrics,
    )
    cancel_sms = providers.Factory(CancelSmsHandler, uow=uow, clock=clock)
    create_campaign = providers.Factory(
        CreateCampaignHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        users=user_directory,
        gateway=gateway,
        queue=send_queue,
        clock=clock,
        metrics=metrics,
    )
    get_campaign = providers.Factory(GetCampaignHandler, views=campaign_views)
    list_campaign_recipients = providers.Factory(
        ListCampaignRecipientsHandler, views=campaign_views
    )
    cancel_campaign = providers.Factory(
        CancelCampaignHandler, uow=uow, views=campaign_views, clock=clock
    )
    send_automated_sms = providers.Factory(
        SendAutomatedSmsHandler,
        uow=uow,
        patients=patient_directory,
        clinics=clinic_directory,
        gateway=gateway,
        queue=send_queue,
        clock=clock,
        metrics=metrics,
    )
    dispatch_due = providers.Factory(DispatchDueHandler, uow=uow, queue=send_queue, clock=clock)


def for_worker(container: Container) -> Container:
    """``container`` as a worker uses it: its gateway tries each send once, because the queue
    retries transient failures itself, with backoff (at most 5 attempts in 30 minutes)."""
    container.gateway_attempts.override(1)
    return container


def create_container(environ: Mapping[str, str] | None = None, **overrides: Any) -> Container:
    """A container configured from ``environ`` (default: the process environment).

    ``overrides`` replace settings by name, e.g. ``create_container(database_url="sqlite://")``.
    """
    return Container(settings=settings_from_environ(environ, **overrides))
