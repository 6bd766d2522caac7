"""Systems and facilities as records of their own, linked to events

A program's systems and facilities were JSON lists on ``program``; each is now a row of ``system``
or ``facility`` (its own slug, summary, status with its date, aliases, names in other languages,
key dates, a facility's location) belonging to one program, and events link to them through
``event_system`` and ``event_facility`` like they link to programs. Subscriptions gain the two
matching lists. The JSON lists on ``program`` go: the seed writes the rows from the same corpus.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTS = ("system", "facility")


def _part(name: str, *extra: sa.Column[str]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=True),
        sa.Column("status_since_precision", sa.String(length=5), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("i18n", sa.JSON(), nullable=False),
        sa.Column("key_dates", sa.JSON(), nullable=False),
        *extra,
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f(f"fk_{name}_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("slug", name=op.f(f"uq_{name}_slug")),
    )
    op.create_index(op.f(f"ix_{name}_program_id"), name, ["program_id"], unique=False)
    link = f"event_{name}"
    op.create_table(
        link,
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(f"{name}_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f(f"fk_{link}_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            [f"{name}_id"], [f"{name}.id"], name=op.f(f"fk_{link}_{name}_id_{name}"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", f"{name}_id", name=op.f(f"pk_{link}")),
    )
    op.create_index(f"ix_{link}_{name}_id", link, [f"{name}_id", "event_id"], unique=False)


def upgrade() -> None:
    _part("system")
    _part("facility", sa.Column("location", sa.String(length=200), nullable=False))
    for column in ("systems", "facilities"):
        op.add_column(
            "subscription", sa.Column(column, sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    # Plain columns: SQLite drops them in place (no rebuild of ``program``).
    op.execute("ALTER TABLE program DROP COLUMN facilities")
    op.execute("ALTER TABLE program DROP COLUMN systems")


def downgrade() -> None:
    for column in ("facilities", "systems"):
        op.add_column("program", sa.Column(column, sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    for column in ("facilities", "systems"):
        op.execute(f"ALTER TABLE subscription DROP COLUMN {column}")
    for name in reversed(PARTS):
        op.drop_index(f"ix_event_{name}_{name}_id", table_name=f"event_{name}")
        op.drop_table(f"event_{name}")
        op.drop_index(op.f(f"ix_{name}_program_id"), table_name=name)
        op.drop_table(name)
