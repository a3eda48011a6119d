"""efficiency_indicators

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('efficiency_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('target_value', sa.Float(), nullable=True),
    sa.Column('target_source', sa.Text(), nullable=True),
    sa.Column('grades', sa.JSON(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_efficiency_indicators_node_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_efficiency_indicators')),
    sa.UniqueConstraint('code', name=op.f('uq_efficiency_indicators_code'))
    )
    op.create_index(op.f('ix_efficiency_indicators_node_id'), 'efficiency_indicators', ['node_id'], unique=False)
    op.create_index(op.f('ix_efficiency_indicators_tenant_id'), 'efficiency_indicators', ['tenant_id'], unique=False)
    op.create_table('efficiency_indicator_meters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=12), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('sign', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['efficiency_indicators.id'], name=op.f('fk_efficiency_indicator_meters_indicator_id_efficiency_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_efficiency_indicator_meters_meter_id_meters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_efficiency_indicator_meters')),
    sa.UniqueConstraint('indicator_id', 'side', 'position', name=op.f('uq_efficiency_indicator_meters_indicator_id_side_position'))
    )
    op.create_index(op.f('ix_efficiency_indicator_meters_indicator_id'), 'efficiency_indicator_meters', ['indicator_id'], unique=False)
    op.create_index(op.f('ix_efficiency_indicator_meters_meter_id'), 'efficiency_indicator_meters', ['meter_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_efficiency_indicator_meters_meter_id'), table_name='efficiency_indicator_meters')
    op.drop_index(op.f('ix_efficiency_indicator_meters_indicator_id'), table_name='efficiency_indicator_meters')
    op.drop_table('efficiency_indicator_meters')
    op.drop_index(op.f('ix_efficiency_indicators_tenant_id'), table_name='efficiency_indicators')
    op.drop_index(op.f('ix_efficiency_indicators_node_id'), table_name='efficiency_indicators')
    op.drop_table('efficiency_indicators')
