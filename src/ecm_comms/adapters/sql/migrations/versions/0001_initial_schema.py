"""Users, patients, communication records, activities and events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ecm_comms.adapters.sql.types import Id, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("token_digest", sa.String(64)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("token_digest", name="uq_users_token_digest"),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("coordinator_id", sa.BigInteger()),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
    )
    op.create_table(
        "patient_phones",
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_patient_phones_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", "phone", name="pk_patient_phones"),
    )
    op.create_index("ix_patient_phones_phone", "patient_phones", ["phone"])

    op.create_table(
        "text_messages",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger()),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("to_number", sa.String(20), nullable=False),
        sa.Column("from_number", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("twilio_sid", sa.String(34)),
        sa.Column("error_code", sa.Integer()),
        sa.Column("error_message", sa.Text()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_text_messages"),
        sa.UniqueConstraint("twilio_sid", name="uq_text_messages_twilio_sid"),
    )
    op.create_index(
        "ix_text_messages_patient_id_created_at", "text_messages", ["patient_id", "created_at"]
    )

    op.create_table(
        "voice_calls",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger()),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("to_number", sa.String(20), nullable=False),
        sa.Column("from_number", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("twilio_sid", sa.String(34)),
        sa.Column("duration_seconds", sa.Integer()),
        sa.Column("error_code", sa.Integer()),
        sa.Column("error_message", sa.Text()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voice_calls"),
        sa.UniqueConstraint("twilio_sid", name="uq_voice_calls_twilio_sid"),
    )
    op.create_index(
        "ix_voice_calls_patient_id_created_at", "voice_calls", ["patient_id", "created_at"]
    )

    op.create_table(
        "activities",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("activity_type", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("performed_by_id", sa.BigInteger()),
        sa.Column("assigned_to_id", sa.BigInteger()),
        sa.Column("text_message_id", Id),
        sa.Column("voice_call_id", Id),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_message_id"],
            ["text_messages.id"],
            name="fk_activities_text_message_id_text_messages",
        ),
        sa.ForeignKeyConstraint(
            ["voice_call_id"], ["voice_calls.id"], name="fk_activities_voice_call_id_voice_calls"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        sa.UniqueConstraint("text_message_id", name="uq_activities_text_message_id"),
        sa.UniqueConstraint("voice_call_id", name="uq_activities_voice_call_id"),
    )
    op.create_index(
        "ix_activities_patient_id_created_at", "activities", ["patient_id", "created_at"]
    )

    op.create_table(
        "events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(10), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name="fk_events_activity_id_activities"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("activity_id", name="uq_events_activity_id"),
    )
    op.create_index("ix_events_clinic_id_occurred_at", "events", ["clinic_id", "occurred_at"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("activities")
    op.drop_table("voice_calls")
    op.drop_table("text_messages")
    op.drop_table("patient_phones")
    op.drop_table("patients")
    op.drop_table("users")
