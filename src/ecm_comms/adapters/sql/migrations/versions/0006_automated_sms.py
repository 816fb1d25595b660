"""Automated SMS: scheduled sends, campaigns, the sending limits of clinics and patients, and the
task queue the workers share.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ecm_comms.adapters.sql.types import Id, UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as patients:
        patients.add_column(sa.Column("timezone", sa.String(64)))
    with op.batch_alter_table("clinics") as clinics:
        clinics.add_column(sa.Column("send_window", sa.String(11)))
        clinics.add_column(sa.Column("daily_cap", sa.Integer()))
        clinics.add_column(sa.Column("weekly_cap", sa.Integer()))
    with op.batch_alter_table("text_messages") as messages:
        messages.add_column(sa.Column("send_at", UtcDateTime))
        messages.add_column(sa.Column("skip_reason", sa.String(64)))
    op.create_table(
        "campaigns",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("send_at", UtcDateTime),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("max_segments", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("canceled_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "automated_sms",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("sms_id", Id),
        sa.Column("campaign_id", Id),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("skip_reason", sa.String(64)),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("handed_at", UtcDateTime),
        sa.Column("dispatched_at", UtcDateTime),
        sa.ForeignKeyConstraint(
            ["sms_id"], ["text_messages.id"], name=op.f("fk_automated_sms_sms_id_text_messages")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_automated_sms_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automated_sms")),
        sa.UniqueConstraint("sms_id", name=op.f("uq_automated_sms_sms_id")),
    )
    op.create_index("ix_automated_sms_outcome_due_at", "automated_sms", ["outcome", "due_at"])
    op.create_index("ix_automated_sms_campaign_id_id", "automated_sms", ["campaign_id", "id"])
    op.create_index(
        "ix_automated_sms_patient_id_handed_at", "automated_sms", ["patient_id", "handed_at"]
    )
    _create_queue_tables()


def _create_queue_tables() -> None:
    # The task queue's own tables, in the shape huey's SqlStorage gives its models (see
    # adapters/task_queue.py), so that the service and every worker share them.
    op.create_table(
        "queue_task",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_task")),
    )
    op.create_index("ix_queue_task_queue_priority_id", "queue_task", ["queue", "priority", "id"])
    op.create_table(
        "queue_schedule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_schedule")),
    )
    op.create_index("ix_queue_schedule_queue_timestamp", "queue_schedule", ["queue", "timestamp"])
    op.create_table(
        "queue_kv",
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "key", name=op.f("pk_queue_kv")),
    )
    op.create_table(
        "queue_counter",
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "key", name=op.f("pk_queue_counter")),
    )


def downgrade() -> None:
    for table in ("queue_counter", "queue_kv", "queue_schedule", "queue_task"):
        op.drop_table(table)
    op.drop_table("automated_sms")
    op.drop_table("campaigns")
    with op.batch_alter_table("text_messages") as messages:
        messages.drop_column("skip_reason")
        messages.drop_column("send_at")
    with op.batch_alter_table("clinics") as clinics:
        clinics.drop_column("weekly_cap")
        clinics.drop_column("daily_cap")
        clinics.drop_column("send_window")
    with op.batch_alter_table("patients") as patients:
        patients.drop_column("timezone")
