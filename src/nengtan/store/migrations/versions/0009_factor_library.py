"""factor_library

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('factor_datasets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('document', sa.String(length=500), nullable=True),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('reference_version', sa.String(length=20), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['nodes.id'], name=op.f('fk_factor_datasets_tenant_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_factor_datasets')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_factor_datasets_code_version'))
    )
    op.create_index(op.f('ix_factor_datasets_code'), 'factor_datasets', ['code'], unique=False)
    op.create_index(op.f('ix_factor_datasets_tenant_id'), 'factor_datasets', ['tenant_id'], unique=False)
    op.create_table('factor_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('parameter', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('gwp_set', sa.String(length=4), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('document', sa.String(length=500), nullable=False),
    sa.Column('clause', sa.String(length=300), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('region', sa.String(length=40), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['factor_datasets.id'], name=op.f('fk_factor_values_dataset_id_factor_datasets'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_factor_values')),
    sa.UniqueConstraint('dataset_id', 'key', name=op.f('uq_factor_values_dataset_id_key'))
    )
    op.create_index(op.f('ix_factor_values_dataset_id'), 'factor_values', ['dataset_id'], unique=False)
    op.create_index('ix_factor_values_parameter_subject', 'factor_values', ['parameter', 'subject'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_factor_values_parameter_subject', table_name='factor_values')
    op.drop_index(op.f('ix_factor_values_dataset_id'), table_name='factor_values')
    op.drop_table('factor_values')
    op.drop_index(op.f('ix_factor_datasets_tenant_id'), table_name='factor_datasets')
    op.drop_index(op.f('ix_factor_datasets_code'), table_name='factor_datasets')
    op.drop_table('factor_datasets')
