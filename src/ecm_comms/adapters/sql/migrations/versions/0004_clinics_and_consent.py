"""Clinics and their Twilio numbers; SMS consent as a ledger per clinic, replacing opt_outs.

Today's opt-outs become ledger entries of the shared number (clinic_id NULL), where every
existing deployment sends from: source carrier_21610 when a send to the number failed with
Twilio's error 21610, else keyword, each with the SMS that carried it where the data tells.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ecm_comms.adapters.sql.types import Id, UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As they were when this migration was written: a migration does not follow later code.
_OPT_OUT_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
_OPTED_OUT_ERROR_CODE = 21610


def upgrade() -> None:
    op.create_table(
        "clinics",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("npi", sa.String(10)),
        sa.Column("phone", sa.String(20)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinics"),
    )
    op.create_table(
        "clinic_numbers",
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("clinic_id", sa.BigInteger(), nullable=False),
        sa.Column("messaging_service_sid", sa.String(34)),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_clinic_numbers"),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name="fk_clinic_numbers_clinic_id_clinics"
        ),
    )
    op.create_index("ix_clinic_numbers_clinic_id", "clinic_numbers", ["clinic_id"])
    consent = op.create_table(
        "consent_entries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("clinic_id", sa.BigInteger()),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("sms_id", Id),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("note", sa.Text()),
        sa.Column("recorded_for_clinic_id", sa.BigInteger()),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_entries"),
    )
    op.create_index(
        "ix_consent_entries_phone_clinic_id_id", "consent_entries", ["phone", "clinic_id", "id"]
    )
    op.bulk_insert(consent, _ledger_of_todays_opt_outs(op.get_bind()))
    op.drop_table("opt_outs")


def _ledger_of_todays_opt_outs(connection: sa.Connection) -> list[dict[str, object]]:
    opt_outs = sa.table("opt_outs", sa.column("phone"), sa.column("opted_out_at", UtcDateTime()))
    messages = sa.table(
        "text_messages",
        sa.column("id"),
        sa.column("clinic_id"),
        sa.column("direction"),
        sa.column("to_number"),
        sa.column("from_number"),
        sa.column("body"),
        sa.column("error_code"),
    )
    entries = []
    for phone, at in connection.execute(sa.select(opt_outs.c.phone, opt_outs.c.opted_out_at)):
        refused = connection.execute(
            sa.select(sa.func.max(messages.c.id)).where(
                messages.c.direction == "outbound",
                messages.c.to_number == phone,
                messages.c.error_code == _OPTED_OUT_ERROR_CODE,
            )
        ).scalar()
        # The latest opt-out word from the number, trimmed as the service trims it (SQL's TRIM
        # keeps newlines and tabs).
        inbound = connection.execute(
            sa.select(messages.c.id, messages.c.body)
            .where(messages.c.direction == "inbound", messages.c.from_number == phone)
            .order_by(messages.c.id.desc())
        )
        keyword = next((i for i, body in inbound if body.strip().upper() in _OPT_OUT_WORDS), None)
        sms_id = keyword if keyword is not None else refused
        recorded_for = connection.execute(
            sa.select(messages.c.clinic_id).where(messages.c.id == sms_id)
        ).scalar()
        entries.append(
            {
                "phone": phone,
                "clinic_id": None,
                "action": "opt_out",
                "source": "carrier_21610" if refused is not None and keyword is None else "keyword",
                "sms_id": sms_id,
                "user_id": None,
                "note": None,
                "recorded_for_clinic_id": recorded_for,
                "at": at,
            }
        )
    return entries


def downgrade() -> None:
    opt_outs = op.create_table(
        "opt_outs",
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("opted_out_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone", name="pk_opt_outs"),
    )
    # The shared number's opt-outs still standing: those whose latest entry is an opt-out.
    c = sa.table(
        "consent_entries",
        sa.column("id"),
        sa.column("phone"),
        sa.column("clinic_id"),
        sa.column("action"),
        sa.column("at", UtcDateTime()),
    )
    latest = sa.select(sa.func.max(c.c.id)).where(c.c.clinic_id.is_(None)).group_by(c.c.phone)
    rows = op.get_bind().execute(
        sa.select(c.c.phone, c.c.at).where(c.c.id.in_(latest), c.c.action == "opt_out")
    )
    op.bulk_insert(opt_outs, [{"phone": phone, "opted_out_at": at} for phone, at in rows])
    op.drop_table("consent_entries")
    op.drop_table("clinic_numbers")
    op.drop_table("clinics")
