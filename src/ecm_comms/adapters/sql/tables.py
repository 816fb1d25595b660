"""The schema, as SQLAlchemy Core tables. Alembic migrations create it; keep the two in step
(``tests/integration/test_migrations.py`` compares them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ecm_comms.adapters.sql.types import Id, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("clinic_id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("phone", String(20)),
    Column("token_digest", String(64), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("role", String(20), nullable=False, server_default="coordinator"),
)

patients = Table(
    "patients",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("clinic_id", BigInteger, nullable=False),
    Column("name", String(200)),
    Column("coordinator_id", BigInteger),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("member_id", String(20)),
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("date_of_birth", Date),
    Column("timezone", String(64)),  # None: the clinic's
)

patient_phones = Table(
    "patient_phones",
    metadata,
    Column(
        "patient_id",
        BigInteger,
        ForeignKey("patients.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("phone", String(20), primary_key=True),
    Column("position", Integer, nullable=False),
    # Inbound messages are matched to patients by the sender's number.
    Index("ix_patient_phones_phone", "phone"),
)

text_messages = Table(
    "text_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger),  # None: an inbound record no patient matched
    Column("patient_id", BigInteger),
    Column("direction", String(10), nullable=False),
    Column("to_number", String(64), nullable=False),
    Column("from_number", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("twilio_sid", String(34), unique=True),
    Column("sent_by_id", BigInteger),
    Column("error_code", Integer),
    Column("error_message", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_text_messages_patient_id_created_at", "patient_id", "created_at"),
    Column("send_at", UtcDateTime),  # an automated SMS: when it was asked to go out
    Column("skip_reason", String(64)),
)

voice_calls = Table(
    "voice_calls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger),  # None: an inbound record no patient matched
    Column("patient_id", BigInteger),
    Column("direction", String(10), nullable=False),
    Column("to_number", String(64), nullable=False),
    Column("from_number", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("twilio_sid", String(34), unique=True),
    Column("sent_by_id", BigInteger),
    Column("duration_seconds", Integer),
    Column("error_code", Integer),
    Column("error_message", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_voice_calls_patient_id_created_at", "patient_id", "created_at"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger, nullable=False),
    Column("activity_type", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("patient_id", BigInteger, nullable=False),
    Column("performed_by_id", BigInteger),
    Column("assigned_to_id", BigInteger),
    Column("text_message_id", Id, ForeignKey("text_messages.id"), unique=True),
    Column("voice_call_id", Id, ForeignKey("voice_calls.id"), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_activities_patient_id_created_at", "patient_id", "created_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger, nullable=False),
    Column("event_type", String(10), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("patient_id", BigInteger, nullable=False),
    Column("activity_id", Id, ForeignKey("activities.id"), nullable=False, unique=True),
    # Compliance reports read a clinic's events by time.
    Index("ix_events_clinic_id_occurred_at", "clinic_id", "occurred_at"),
    # The clinic API lists a patient's events, newest first.
    Index("ix_events_patient_id_occurred_at", "patient_id", "occurred_at"),
)

# Every status callback as received: the audit trail. One row per (channel, sid, status).
status_callbacks = Table(
    "status_callbacks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(10), nullable=False),
    Column("twilio_sid", String(34), nullable=False),
    Column("status", String(32), nullable=False),
    Column("record_id", BigInteger),
    Column("error_code", Integer),
    Column("error_message", Text),
    Column("duration_seconds", Integer),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel", "twilio_sid", "status", name="uq_status_callbacks_channel"),
)

clinics = Table(
    "clinics",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("npi", String(10)),
    Column("phone", String(20)),
    Column("timezone", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Automated SMS: "HH:MM-HH:MM" and caps; None: the TCPA exemption's own limits.
    Column("send_window", String(11)),
    Column("daily_cap", Integer),
    Column("weekly_cap", Integer),
)

# A Twilio number belongs to one clinic at most (the primary key); inbound routing looks it up.
clinic_numbers = Table(
    "clinic_numbers",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("clinic_id", BigInteger, ForeignKey("clinics.id"), nullable=False),
    Column("messaging_service_sid", String(34)),
    Column("is_default", Boolean, nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_clinic_numbers_clinic_id", "clinic_id"),
)

# SMS consent, as a ledger: rows are only ever added. clinic_id None: the shared fallback number.
consent_entries = Table(
    "consent_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("phone", String(64), nullable=False),
    Column("clinic_id", BigInteger),
    Column("action", String(10), nullable=False),
    Column("source", String(20), nullable=False),
    Column("sms_id", Id),
    Column("user_id", BigInteger),
    Column("note", Text),
    Column("recorded_for_clinic_id", BigInteger),
    Column("at", UtcDateTime, nullable=False),
    # A send checks the latest entry of its recipient with its clinic.
    Index("ix_consent_entries_phone_clinic_id_id", "phone", "clinic_id", "id"),
)

# Every PRTF report produced, with its file exactly as it was handed to the health plan.
prtf_reports = Table(
    "prtf_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger, nullable=False),
    Column("filename", String(100), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("provider_npi", String(10), nullable=False),
    Column("provider_name", String(200)),
    Column("provider_phone", String(20)),
    Column("patient_count", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_by_id", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_prtf_reports_clinic_id_created_at", "clinic_id", "created_at"),
)

# A user's Idempotency-Key, the request it was first used for, and the answer given.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    # Pruning forgets keys by age.
    Index("ix_idempotency_keys_started_at", "started_at"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("send_at", UtcDateTime),
    Column("total", Integer, nullable=False),
    Column("max_segments", Integer, nullable=False),
    Column("created_by_id", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("canceled_at", UtcDateTime),
)

# Every scheduled or campaign SMS, from scheduling to its outcome; sms_id None: a recipient
# skipped before an SMS could be written (no phone number, a missing template value).
automated_sms = Table(
    "automated_sms",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("clinic_id", BigInteger, nullable=False),
    Column("patient_id", BigInteger, nullable=False),
    Column("sms_id", Id, ForeignKey("text_messages.id"), unique=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id")),
    Column("outcome", String(10), nullable=False),
    Column("skip_reason", String(64)),
    Column("due_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("handed_at", UtcDateTime),
    Column("dispatched_at", UtcDateTime),
    # The sweep looks for scheduled ones that are due.
    Index("ix_automated_sms_outcome_due_at", "outcome", "due_at"),
    # A campaign's recipients, in the order given.
    Index("ix_automated_sms_campaign_id_id", "campaign_id", "id"),
    # A patient's frequency caps.
    Index("ix_automated_sms_patient_id_handed_at", "patient_id", "handed_at"),
)

# The task queue's tables, in the shape huey's SqlStorage gives its models (its names prefixed):
# the service and every worker pointed at one database share one queue.
queue_task = Table(
    "queue_task",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(255), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("priority", Float, nullable=False),
    # Workers take the task of highest priority (the sweep), then the oldest.
    Index("ix_queue_task_queue_priority_id", "queue", "priority", "id"),
)

queue_schedule = Table(
    "queue_schedule",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(255), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_queue_schedule_queue_timestamp", "queue", "timestamp"),
)

queue_kv = Table(
    "queue_kv",
    metadata,
    Column("queue", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

queue_counter = Table(
    "queue_counter",
    metadata,
    Column("queue", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Integer, nullable=False),
)
