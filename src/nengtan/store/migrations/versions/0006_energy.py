"""energy

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('energy_parameters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('carrier_code', sa.String(length=40), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=30), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carrier_code'], ['carriers.code'], name=op.f('fk_energy_parameters_carrier_code_carriers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_parameters'))
    )
    op.create_index(op.f('ix_energy_parameters_tenant_id'), 'energy_parameters', ['tenant_id'], unique=False)
    with op.batch_alter_table('meters') as batch:
        batch.add_column(sa.Column('energy_use', sa.String(length=10), nullable=False,
                                   server_default='fuel'))


def downgrade() -> None:
    with op.batch_alter_table('meters') as batch:
        batch.drop_column('energy_use')
    op.drop_index(op.f('ix_energy_parameters_tenant_id'), table_name='energy_parameters')
    op.drop_table('energy_parameters')
