"""registration

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 04:21:50.073963
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocv.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('elections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('home_country', sa.String(length=2), nullable=False),
    sa.Column('polling_day', sa.Date(), nullable=False),
    sa.Column('voting_rule', sa.String(length=20), nullable=False),
    sa.Column('minimum_age', sa.Integer(), nullable=False),
    sa.Column('accepted_documents', sa.JSON(), nullable=False),
    sa.Column('documents_required', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('registration_opened_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exhibition_started_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('frozen_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('frozen_digest', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('setup', 'registration_open', 'exhibition', 'frozen')", name=op.f('ck_elections_status_known')),
    sa.CheckConstraint("voting_rule IN ('assigned_station', 'any_station')", name=op.f('ck_elections_voting_rule_known')),
    sa.CheckConstraint('documents_required >= 0', name=op.f('ck_elections_documents_required_non_negative')),
    sa.CheckConstraint('minimum_age BETWEEN 0 AND 120', name=op.f('ck_elections_minimum_age_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elections')),
    sa.UniqueConstraint('code', name=op.f('uq_elections_code'))
    )
    op.create_table('ballot_styles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('contest_codes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_ballot_styles_election_id_elections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_styles')),
    sa.UniqueConstraint('election_id', 'code', name=op.f('uq_ballot_styles_election_id'))
    )
    op.create_table('contests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('votes_allowed', sa.Integer(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.CheckConstraint('votes_allowed >= 1', name=op.f('ck_contests_votes_allowed_positive')),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_contests_election_id_elections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contests')),
    sa.UniqueConstraint('election_id', 'code', name=op.f('uq_contests_election_id'))
    )
    op.create_table('host_countries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('polling_days', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_host_countries_election_id_elections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_countries')),
    sa.UniqueConstraint('election_id', 'code', name=op.f('uq_host_countries_election_id'))
    )
    op.create_table('constituencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ballot_style_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('home', 'overseas')", name=op.f('ck_constituencies_kind_known')),
    sa.ForeignKeyConstraint(['ballot_style_id'], ['ballot_styles.id'], name=op.f('fk_constituencies_ballot_style_id_ballot_styles')),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_constituencies_election_id_elections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_constituencies')),
    sa.UniqueConstraint('election_id', 'code', name=op.f('uq_constituencies_election_id'))
    )
    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('country_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.CheckConstraint('assigned >= 0 AND assigned <= capacity', name=op.f('ck_stations_assigned_within_capacity')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_stations_capacity_positive')),
    sa.ForeignKeyConstraint(['country_id'], ['host_countries.id'], name=op.f('fk_stations_country_id_host_countries')),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_stations_election_id_elections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('election_id', 'code', name=op.f('uq_stations_election_id'))
    )
    op.create_table('voters',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('reg_no', sa.String(length=16), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('father_name', sa.String(length=100), nullable=True),
    sa.Column('grandfather_name', sa.String(length=100), nullable=True),
    sa.Column('names_original_script', sa.String(length=300), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('constituency_id', sa.Integer(), nullable=False),
    sa.Column('country_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('name_key', sa.String(length=16), nullable=False),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('registered', 'cancelled')", name=op.f('ck_voters_status_known')),
    sa.ForeignKeyConstraint(['constituency_id'], ['constituencies.id'], name=op.f('fk_voters_constituency_id_constituencies')),
    sa.ForeignKeyConstraint(['country_id'], ['host_countries.id'], name=op.f('fk_voters_country_id_host_countries')),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_voters_election_id_elections')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_voters_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voters')),
    sa.UniqueConstraint('election_id', 'reg_no', name=op.f('uq_voters_election_id'))
    )
    with op.batch_alter_table('voters', schema=None) as batch_op:
        batch_op.create_index('ix_voters_match', ['election_id', 'date_of_birth', 'name_key'], unique=False)
        batch_op.create_index('ix_voters_station_names', ['station_id', 'family_name', 'given_name'], unique=False)

    op.create_table('duplicate_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'same_person', 'different')", name=op.f('ck_duplicate_reviews_status_known')),
    sa.ForeignKeyConstraint(['candidate_id'], ['voters.id'], name=op.f('fk_duplicate_reviews_candidate_id_voters')),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_duplicate_reviews_election_id_elections')),
    sa.ForeignKeyConstraint(['voter_id'], ['voters.id'], name=op.f('fk_duplicate_reviews_voter_id_voters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_reviews')),
    sa.UniqueConstraint('voter_id', 'candidate_id', name=op.f('uq_duplicate_reviews_voter_id'))
    )
    with op.batch_alter_table('duplicate_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_reviews_election_id'), ['election_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Uuid(), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('filed_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('filed_at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('notified_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_by', sa.String(length=64), nullable=True),
    sa.Column('notice_method', sa.String(length=100), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=12), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', ocv.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision IS NULL OR decision IN ('upheld', 'dismissed')", name=op.f('ck_objections_decision_known')),
    sa.CheckConstraint("status IN ('filed', 'notified', 'replied', 'decided')", name=op.f('ck_objections_status_known')),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_objections_election_id_elections')),
    sa.ForeignKeyConstraint(['voter_id'], ['voters.id'], name=op.f('fk_objections_voter_id_voters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_election_id'), ['election_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_voter_id'), ['voter_id'], unique=False)

    op.create_table('voter_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Uuid(), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=False),
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('number_sealed', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_voter_documents_election_id_elections')),
    sa.ForeignKeyConstraint(['voter_id'], ['voters.id'], name=op.f('fk_voter_documents_voter_id_voters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_documents')),
    sa.UniqueConstraint('election_id', 'doc_type', 'number_hash', name=op.f('uq_voter_documents_election_id'))
    )
    with op.batch_alter_table('voter_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_documents_voter_id'), ['voter_id'], unique=False)

    op.create_table('voter_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('officer', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('at', ocv.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['voter_id'], ['voters.id'], name=op.f('fk_voter_history_voter_id_voters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_history'))
    )
    with op.batch_alter_table('voter_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_history_voter_id'), ['voter_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('voter_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_history_voter_id'))

    op.drop_table('voter_history')
    with op.batch_alter_table('voter_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_documents_voter_id'))

    op.drop_table('voter_documents')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_voter_id'))
        batch_op.drop_index(batch_op.f('ix_objections_election_id'))

    op.drop_table('objections')
    with op.batch_alter_table('duplicate_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_reviews_election_id'))

    op.drop_table('duplicate_reviews')
    with op.batch_alter_table('voters', schema=None) as batch_op:
        batch_op.drop_index('ix_voters_station_names')
        batch_op.drop_index('ix_voters_match')

    op.drop_table('voters')
    op.drop_table('stations')
    op.drop_table('constituencies')
    op.drop_table('host_countries')
    op.drop_table('contests')
    op.drop_table('ballot_styles')
    op.drop_table('elections')
