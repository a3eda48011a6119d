"""park_carbon

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('park_carbon_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('term', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('carrier', sa.String(length=40), nullable=True),
    sa.Column('quantity', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=30), nullable=True),
    sa.Column('gas', sa.String(length=10), nullable=True),
    sa.Column('tco2e', sa.Float(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_park_carbon_items_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['park_id'], ['nodes.id'], name=op.f('fk_park_carbon_items_park_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_park_carbon_items')),
    sa.UniqueConstraint('park_id', 'code', 'version', name=op.f('uq_park_carbon_items_park_id_code_version'))
    )
    op.create_index(op.f('ix_park_carbon_items_park_id_term'), 'park_carbon_items', ['park_id', 'term'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_park_carbon_items_park_id_term'), table_name='park_carbon_items')
    op.drop_table('park_carbon_items')
