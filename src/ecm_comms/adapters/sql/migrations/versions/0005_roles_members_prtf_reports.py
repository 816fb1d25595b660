"""Users' roles, what a report needs of a patient, the PRTF reports produced, and a patient's
events by time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ecm_comms.adapters.sql.types import Id, UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(
            sa.Column("role", sa.String(20), nullable=False, server_default="coordinator")
        )
    with op.batch_alter_table("patients") as patients:
        patients.add_column(sa.Column("member_id", sa.String(20)))
        patients.add_column(sa.Column("first_name", sa.String(100)))
        patients.add_column(sa.Column("last_name", sa.String(100)))
        patients.add_column(sa.Column("date_of_birth", sa.Date()))
    op.create_table(
        "prtf_reports",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("provider_npi", sa.String(10), nullable=False),
        sa.Column("provider_name", sa.String(200)),
        sa.Column("provider_phone", sa.String(20)),
        sa.Column("patient_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prtf_reports"),
    )
    op.create_index(
        "ix_prtf_reports_clinic_id_created_at", "prtf_reports", ["clinic_id", "created_at"]
    )
    # The clinic API lists a patient's events, newest first.
    op.create_index("ix_events_patient_id_occurred_at", "events", ["patient_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_events_patient_id_occurred_at", table_name="events")
    op.drop_table("prtf_reports")
    with op.batch_alter_table("patients") as patients:
        for column in ("date_of_birth", "last_name", "first_name", "member_id"):
            patients.drop_column(column)
    with op.batch_alter_table("users") as users:
        users.drop_column("role")
