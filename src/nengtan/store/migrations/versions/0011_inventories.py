"""inventories

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inventories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('operational_boundary', sa.Text(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('period_label', sa.String(length=40), nullable=False),
    sa.Column('base_year', sa.Integer(), nullable=True),
    sa.Column('gwp_set', sa.String(length=8), nullable=False),
    sa.Column('methodology', sa.String(length=40), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=True),
    sa.Column('grid_basis', sa.String(length=10), nullable=True),
    sa.Column('target_tco2e', sa.Float(), nullable=True),
    sa.Column('target_period', sa.String(length=10), nullable=True),
    sa.Column('target_source', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_inventories_node_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventories')),
    sa.UniqueConstraint('code', name=op.f('uq_inventories_code'))
    )
    op.create_index(op.f('ix_inventories_node_id'), 'inventories', ['node_id'], unique=False)
    op.create_index(op.f('ix_inventories_tenant_id'), 'inventories', ['tenant_id'], unique=False)
    op.create_table('emission_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('inventory_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=True),
    sa.Column('gas', sa.String(length=8), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('facility_node_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('scope3_category', sa.Integer(), nullable=True),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['facility_node_id'], ['nodes.id'], name=op.f('fk_emission_sources_facility_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventories.id'], name=op.f('fk_emission_sources_inventory_id_inventories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_emission_sources_node_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_sources')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_emission_sources_tenant_id_code'))
    )
    op.create_index(op.f('ix_emission_sources_facility_node_id'), 'emission_sources', ['facility_node_id'], unique=False)
    op.create_index(op.f('ix_emission_sources_inventory_id'), 'emission_sources', ['inventory_id'], unique=False)
    op.create_index(op.f('ix_emission_sources_node_id'), 'emission_sources', ['node_id'], unique=False)
    op.create_index(op.f('ix_emission_sources_tenant_id'), 'emission_sources', ['tenant_id'], unique=False)
    op.create_table('inventory_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inventory_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('total_tco2e', sa.Float(), nullable=False),
    sa.Column('scope1_tco2e', sa.Float(), nullable=False),
    sa.Column('scope2_tco2e', sa.Float(), nullable=False),
    sa.Column('scope2_market_tco2e', sa.Float(), nullable=False),
    sa.Column('computed_by', sa.String(length=100), nullable=True),
    sa.Column('computed_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=100), nullable=True),
    sa.Column('locked_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('ledger', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventories.id'], name=op.f('fk_inventory_versions_inventory_id_inventories'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_versions')),
    sa.UniqueConstraint('inventory_id', 'version', name=op.f('uq_inventory_versions_inventory_id_version'))
    )
    op.create_index(op.f('ix_inventory_versions_inventory_id_status'), 'inventory_versions', ['inventory_id', 'status'], unique=False)
    op.create_table('emission_source_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('sign', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=True),
    sa.Column('manual_entry_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('cems_monitor_id', sa.Integer(), nullable=True),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('use', sa.String(length=12), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['cems_monitor_id'], ['cems_monitors.id'], name=op.f('fk_emission_source_links_cems_monitor_id_cems_monitors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence_files.id'], name=op.f('fk_emission_source_links_evidence_id_evidence_files'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['manual_entry_id'], ['manual_entries.id'], name=op.f('fk_emission_source_links_manual_entry_id_manual_entries'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_emission_source_links_meter_id_meters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_emission_source_links_product_id_products'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['source_id'], ['emission_sources.id'], name=op.f('fk_emission_source_links_source_id_emission_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_source_links')),
    sa.UniqueConstraint('source_id', 'position', name=op.f('uq_emission_source_links_source_id_position'))
    )
    op.create_index(op.f('ix_emission_source_links_manual_entry_id'), 'emission_source_links', ['manual_entry_id'], unique=False)
    op.create_index(op.f('ix_emission_source_links_meter_id'), 'emission_source_links', ['meter_id'], unique=False)
    op.create_index(op.f('ix_emission_source_links_source_id'), 'emission_source_links', ['source_id'], unique=False)
    op.create_table('emission_source_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['emission_sources.id'], name=op.f('fk_emission_source_revisions_source_id_emission_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_source_revisions')),
    sa.UniqueConstraint('source_id', 'revision', name=op.f('uq_emission_source_revisions_source_id_revision'))
    )
    op.create_index(op.f('ix_emission_source_revisions_source_id'), 'emission_source_revisions', ['source_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_emission_source_revisions_source_id'), table_name='emission_source_revisions')
    op.drop_table('emission_source_revisions')
    op.drop_index(op.f('ix_emission_source_links_source_id'), table_name='emission_source_links')
    op.drop_index(op.f('ix_emission_source_links_meter_id'), table_name='emission_source_links')
    op.drop_index(op.f('ix_emission_source_links_manual_entry_id'), table_name='emission_source_links')
    op.drop_table('emission_source_links')
    op.drop_index(op.f('ix_inventory_versions_inventory_id_status'), table_name='inventory_versions')
    op.drop_table('inventory_versions')
    op.drop_index(op.f('ix_emission_sources_tenant_id'), table_name='emission_sources')
    op.drop_index(op.f('ix_emission_sources_node_id'), table_name='emission_sources')
    op.drop_index(op.f('ix_emission_sources_inventory_id'), table_name='emission_sources')
    op.drop_index(op.f('ix_emission_sources_facility_node_id'), table_name='emission_sources')
    op.drop_table('emission_sources')
    op.drop_index(op.f('ix_inventories_tenant_id'), table_name='inventories')
    op.drop_index(op.f('ix_inventories_node_id'), table_name='inventories')
    op.drop_table('inventories')
