"""quality_rules

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quality_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('meter_id', sa.Integer(), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=True),
    sa.Column('carrier_code', sa.String(length=40), nullable=True),
    sa.Column('subtree', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(meter_id IS NULL) <> (node_id IS NULL)', name=op.f('ck_quality_rules_scope')),
    sa.ForeignKeyConstraint(['carrier_code'], ['carriers.code'], name=op.f('fk_quality_rules_carrier_code_carriers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_quality_rules_meter_id_meters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_quality_rules_node_id_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rules'))
    )
    op.create_index(op.f('ix_quality_rules_meter_id'), 'quality_rules', ['meter_id'], unique=False)
    op.create_index(op.f('ix_quality_rules_node_id'), 'quality_rules', ['node_id'], unique=False)
    op.create_index(op.f('ix_quality_rules_tenant_id'), 'quality_rules', ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quality_rules_tenant_id'), table_name='quality_rules')
    op.drop_index(op.f('ix_quality_rules_node_id'), table_name='quality_rules')
    op.drop_index(op.f('ix_quality_rules_meter_id'), table_name='quality_rules')
    op.drop_table('quality_rules')
