"""Inbound and unmatched records, write-ahead senders, the status log and opt-outs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ecm_comms.adapters.sql.types import Id, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMMUNICATIONS = ("text_messages", "voice_calls")


def upgrade() -> None:
    for table in _COMMUNICATIONS:
        with op.batch_alter_table(table) as batch:
            # An inbound SMS or call no patient matched belongs to no clinic yet.
            batch.alter_column("clinic_id", existing_type=sa.BigInteger(), nullable=True)
            # Providers report senders that are not phone numbers ("client:…", sender ids).
            batch.alter_column("to_number", existing_type=sa.String(20), type_=sa.String(64))
            batch.alter_column("from_number", existing_type=sa.String(20), type_=sa.String(64))
            batch.add_column(sa.Column("sent_by_id", sa.BigInteger()))

    op.create_table(
        "status_callbacks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("twilio_sid", sa.String(34), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("record_id", sa.BigInteger()),
        sa.Column("error_code", sa.Integer()),
        sa.Column("error_message", sa.Text()),
        sa.Column("duration_seconds", sa.Integer()),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_callbacks"),
        sa.UniqueConstraint("channel", "twilio_sid", "status", name="uq_status_callbacks_channel"),
    )
    op.create_table(
        "opt_outs",
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("opted_out_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone", name="pk_opt_outs"),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
    op.drop_table("status_callbacks")
    for table in _COMMUNICATIONS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("sent_by_id")
            batch.alter_column("from_number", existing_type=sa.String(64), type_=sa.String(20))
            batch.alter_column("to_number", existing_type=sa.String(64), type_=sa.String(20))
            batch.alter_column("clinic_id", existing_type=sa.BigInteger(), nullable=False)
