"""cems

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import nengtan.store.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cems_hours',
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('hour', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('co2_t', sa.Float(), nullable=True),
    sa.Column('measured_co2_t', sa.Float(), nullable=True),
    sa.Column('valid_minutes', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=True),
    sa.Column('averages', sa.JSON(), nullable=True),
    sa.Column('method_version', sa.String(length=20), nullable=False),
    sa.Column('computed_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('monitor_id', 'hour', name=op.f('pk_cems_hours'))
    )
    op.create_table('cems_sample_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('param', sa.String(length=10), nullable=False),
    sa.Column('ts', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('old_value', sa.Float(), nullable=False),
    sa.Column('old_status', sa.String(length=4), nullable=False),
    sa.Column('old_batch_id', sa.Integer(), nullable=False),
    sa.Column('new_value', sa.Float(), nullable=False),
    sa.Column('new_status', sa.String(length=4), nullable=False),
    sa.Column('new_batch_id', sa.Integer(), nullable=False),
    sa.Column('revised_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cems_sample_revisions'))
    )
    op.create_index(op.f('ix_cems_sample_revisions_monitor_id_ts'), 'cems_sample_revisions', ['monitor_id', 'ts'], unique=False)
    op.create_index(op.f('ix_cems_sample_revisions_tenant_id'), 'cems_sample_revisions', ['tenant_id'], unique=False)
    op.create_table('cems_samples',
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('param', sa.String(length=10), nullable=False),
    sa.Column('ts', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=4), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('ingested_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('monitor_id', 'param', 'ts', name=op.f('pk_cems_samples'))
    )
    op.create_table('cems_monitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('co2_basis', sa.String(length=8), nullable=False),
    sa.Column('co2_unit', sa.String(length=8), nullable=False),
    sa.Column('flow_basis', sa.String(length=10), nullable=False),
    sa.Column('pressure_basis', sa.String(length=10), nullable=False),
    sa.Column('barometric_kpa', sa.Float(), nullable=False),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('active_from', nengtan.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_cems_monitors_node_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cems_monitors')),
    sa.UniqueConstraint('code', name=op.f('uq_cems_monitors_code'))
    )
    op.create_index(op.f('ix_cems_monitors_node_id'), 'cems_monitors', ['node_id'], unique=False)
    op.create_index(op.f('ix_cems_monitors_tenant_id'), 'cems_monitors', ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_cems_monitors_tenant_id'), table_name='cems_monitors')
    op.drop_index(op.f('ix_cems_monitors_node_id'), table_name='cems_monitors')
    op.drop_table('cems_monitors')
    op.drop_table('cems_samples')
    op.drop_index(op.f('ix_cems_sample_revisions_tenant_id'), table_name='cems_sample_revisions')
    op.drop_index(op.f('ix_cems_sample_revisions_monitor_id_ts'), table_name='cems_sample_revisions')
    op.drop_table('cems_sample_revisions')
    op.drop_table('cems_hours')
