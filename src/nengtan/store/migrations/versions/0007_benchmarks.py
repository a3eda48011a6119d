"""benchmarks

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('benchmarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('sector', sa.String(length=60), nullable=True),
    sa.Column('product', sa.String(length=200), nullable=True),
    sa.Column('indicator', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=True),
    sa.Column('document', sa.String(length=200), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('dataset', sa.String(length=40), nullable=True),
    sa.Column('dataset_version', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benchmarks')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_benchmarks_code_version'))
    )
    op.create_index(op.f('ix_benchmarks_code'), 'benchmarks', ['code'], unique=False)
    op.create_table('benchmark_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benchmark_code', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_benchmark_links_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_benchmark_links_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benchmark_links'))
    )
    op.create_index(op.f('ix_benchmark_links_benchmark_code'), 'benchmark_links', ['benchmark_code'], unique=False)
    op.create_index(op.f('ix_benchmark_links_node_id'), 'benchmark_links', ['node_id'], unique=False)
    op.create_index(op.f('ix_benchmark_links_product_id'), 'benchmark_links', ['product_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_benchmark_links_product_id'), table_name='benchmark_links')
    op.drop_index(op.f('ix_benchmark_links_node_id'), table_name='benchmark_links')
    op.drop_index(op.f('ix_benchmark_links_benchmark_code'), table_name='benchmark_links')
    op.drop_table('benchmark_links')
    op.drop_index(op.f('ix_benchmarks_code'), table_name='benchmarks')
    op.drop_table('benchmarks')
