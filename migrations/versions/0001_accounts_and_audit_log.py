"""accounts and audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-29 03:51:25.949391
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocv.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_audit_checkpoints'))
    )
    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('time', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('election', sa.String(length=32), nullable=True),
    sa.Column('station', sa.String(length=32), nullable=True),
    sa.Column('country', sa.String(length=8), nullable=True),
    sa.Column('leaf', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_station'), ['station'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_time'), ['time'], unique=False)
        batch_op.create_index('ix_audit_entries_type_seq', ['type', 'seq'], unique=False)

    op.create_table('audit_hashes',
    sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('index', name=op.f('pk_audit_hashes'))
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('last_time', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('audit_keys',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('vkey', sa.String(length=250), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('sealed_private', sa.Text(), nullable=True),
    sa.Column('registered_seq', sa.BigInteger(), nullable=True),
    sa.Column('revoked_seq', sa.BigInteger(), nullable=True),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_audit_keys')),
    sa.UniqueConstraint('vkey', name=op.f('uq_audit_keys_vkey'))
    )
    with op.batch_alter_table('audit_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_keys_owner'), ['owner'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('station_code', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('totp_secret', sa.String(length=200), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role IN ('presiding_officer', 'clerk')) = (station_code IS NOT NULL)", name=op.f('ck_users_station_scope')),
    sa.CheckConstraint("role IN ('admin', 'registration_officer', 'presiding_officer', 'clerk', 'tally_officer', 'observer')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint('failed_logins >= 0', name=op.f('ck_users_failed_logins_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_station_code'), ['station_code'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_cosignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_size', sa.BigInteger(), nullable=False),
    sa.Column('key_name', sa.String(length=120), nullable=False),
    sa.Column('signature_line', sa.Text(), nullable=False),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_size'], ['audit_checkpoints.size'], name=op.f('fk_audit_cosignatures_checkpoint_size_audit_checkpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_cosignatures')),
    sa.UniqueConstraint('checkpoint_size', 'key_name', name=op.f('uq_audit_cosignatures_checkpoint_size'))
    )
    with op.batch_alter_table('audit_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_cosignatures_checkpoint_size'), ['checkpoint_size'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('audit_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_cosignatures_checkpoint_size'))

    op.drop_table('audit_cosignatures')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_station_code'))

    op.drop_table('users')
    with op.batch_alter_table('audit_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_keys_owner'))

    op.drop_table('audit_keys')
    op.drop_table('audit_head')
    op.drop_table('audit_hashes')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_type_seq')
        batch_op.drop_index(batch_op.f('ix_audit_entries_time'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_station'))

    op.drop_table('audit_entries')
    op.drop_table('audit_checkpoints')
