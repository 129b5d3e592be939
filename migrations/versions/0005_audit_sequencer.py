"""audit sequencer: pending entries, and the recording an entry was

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocv.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_pending',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recorded_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('election', sa.String(length=32), nullable=True),
    sa.Column('station', sa.String(length=32), nullable=True),
    sa.Column('country', sa.String(length=8), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_pending')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_id', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entries_recorded_id'), ['recorded_id'])


def downgrade() -> None:
    # Entries still pending would be lost with their table: integrate them first
    # (`ocv audit checkpoint` does), or the downgrade refuses.
    pending = op.get_bind().execute(sa.text('SELECT count(*) FROM audit_pending')).scalar()
    if pending:
        raise RuntimeError(f'{pending} audit entries are pending: integrate them before downgrading')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entries_recorded_id'), type_='unique')
        batch_op.drop_column('recorded_id')
    op.drop_table('audit_pending')
