"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carriers',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('is_energy', sa.Boolean(), nullable=False),
    sa.Column('gbt2589_code', sa.String(length=40), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('dataset_version', sa.String(length=20), nullable=False),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_carriers'))
    )
    op.create_table('gap_spans',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('start_ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('end_ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('flags', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'meter_id', 'start_ts', name=op.f('pk_gap_spans'))
    )
    op.create_table('ingest_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('source_detail', sa.String(length=400), nullable=True),
    sa.Column('received_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('revised', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_batches'))
    )
    op.create_table('meta',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('meter_tails',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('ts', nengtan.store.types.BigIntArray(), nullable=False),
    sa.Column('value', nengtan.store.types.FloatArray(), nullable=False),
    sa.Column('quality', nengtan.store.types.SmallIntArray(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'meter_id', name=op.f('pk_meter_tails'))
    )
    op.create_table('nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('region', sa.String(length=40), nullable=True),
    sa.Column('industry_code', sa.String(length=10), nullable=True),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['nodes.id'], name=op.f('fk_nodes_parent_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nodes')),
    sa.UniqueConstraint('code', name=op.f('uq_nodes_code'))
    )
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nodes_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('standard_coefficient', sa.Float(), nullable=False),
    sa.Column('sector', sa.String(length=40), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    op.create_table('reading_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('old_value', sa.Float(), nullable=False),
    sa.Column('old_quality', sa.SmallInteger(), nullable=False),
    sa.Column('old_batch_id', sa.Integer(), nullable=False),
    sa.Column('old_reason', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Float(), nullable=False),
    sa.Column('new_quality', sa.SmallInteger(), nullable=False),
    sa.Column('new_batch_id', sa.Integer(), nullable=False),
    sa.Column('revised_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_revisions'))
    )
    with op.batch_alter_table('reading_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_revisions_meter_id_ts'), ['meter_id', 'ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_reading_revisions_tenant_id'), ['tenant_id'], unique=False)

    # readings: PostgreSQL partitions it by month on ts (partitions are created on demand by
    # nengtan.store.partitions) and indexes it with BRIN; (meter_id, ts) uniqueness is kept by
    # the ingestion service.  SQLite clusters it on its primary key (meter_id, ts).
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('readings',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('quality', sa.SmallInteger(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    *([] if postgres else [sa.PrimaryKeyConstraint('meter_id', 'ts', name='pk_readings')]),
    postgresql_partition_by='RANGE (ts)',
    sqlite_with_rowid=False
    )
    if postgres:
        op.create_index('ix_readings_meter_id_ts_brin', 'readings', ['meter_id', 'ts'], unique=False,
                        postgresql_using='brin', postgresql_with={'pages_per_range': 16})

    op.create_table('rollup_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('coverage_s', sa.Integer(), nullable=False),
    sa.Column('expected_s', sa.Integer(), nullable=False),
    sa.Column('flags', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'meter_id', 'day', name=op.f('pk_rollup_day'))
    )
    op.create_table('rollup_hour',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', nengtan.store.types.FloatArray(), nullable=False),
    sa.Column('coverage', nengtan.store.types.SmallIntArray(), nullable=True),
    sa.Column('flags', nengtan.store.types.SmallIntArray(), nullable=True),
    sa.Column('valid_count', sa.Integer(), nullable=False),
    sa.Column('raw_count', sa.Integer(), nullable=False),
    sa.Column('first_ts', nengtan.store.types.UTCDateTime(), nullable=True),
    sa.Column('last_ts', nengtan.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', 'meter_id', 'day', name=op.f('pk_rollup_hour'))
    )
    op.create_table('rollup_month',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('coverage_s', sa.Integer(), nullable=False),
    sa.Column('expected_s', sa.Integer(), nullable=False),
    sa.Column('flags', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'meter_id', 'month', name=op.f('pk_rollup_month'))
    )
    op.create_table('economic_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('output_value', sa.Float(), nullable=True),
    sa.Column('added_value', sa.Float(), nullable=True),
    sa.Column('price_basis', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_economic_records_node_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_economic_records')),
    sa.UniqueConstraint('node_id', 'period_start', 'period_end', 'price_basis', name=op.f('uq_economic_records_node_id_period_start_period_end_price_basis'))
    )
    with op.batch_alter_table('economic_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_economic_records_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_economic_records_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('fuel_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=40), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('lot_no', sa.String(length=64), nullable=True),
    sa.Column('ncv', sa.Float(), nullable=True),
    sa.Column('ncv_unit', sa.String(length=20), nullable=True),
    sa.Column('ncv_mj_per_unit', sa.Float(), nullable=True),
    sa.Column('carbon_content_pct', sa.Float(), nullable=True),
    sa.Column('lab', sa.String(length=200), nullable=True),
    sa.Column('report_no', sa.String(length=64), nullable=True),
    sa.Column('method', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_code'], ['carriers.code'], name=op.f('fk_fuel_deliveries_carrier_code_carriers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_fuel_deliveries_node_id_nodes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fuel_deliveries'))
    )
    with op.batch_alter_table('fuel_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fuel_deliveries_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fuel_deliveries_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('production_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_production_records_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_production_records_product_id_products'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_records')),
    sa.UniqueConstraint('node_id', 'product_id', 'period_start', 'period_end', name=op.f('uq_production_records_node_id_product_id_period_start_period_end'))
    )
    with op.batch_alter_table('production_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_production_records_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_production_records_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tariffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('carrier_code', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('demand_charge', sa.Float(), nullable=True),
    sa.Column('capacity_charge', sa.Float(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('region', sa.String(length=40), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['carrier_code'], ['carriers.code'], name=op.f('fk_tariffs_carrier_code_carriers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs')),
    sa.UniqueConstraint('code', name=op.f('uq_tariffs_code'))
    )
    op.create_table('meters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('register', sa.String(length=12), nullable=False),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('multiplier', sa.Float(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('flow_from_node_id', sa.Integer(), nullable=True),
    sa.Column('flow_to_node_id', sa.Integer(), nullable=True),
    sa.Column('parent_meter_id', sa.Integer(), nullable=True),
    sa.Column('formula', sa.Text(), nullable=True),
    sa.Column('rollover_at', sa.Float(), nullable=True),
    sa.Column('gap_threshold_s', sa.Integer(), nullable=True),
    sa.Column('estimate_gaps', sa.Boolean(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=True),
    sa.Column('serial_no', sa.String(length=64), nullable=True),
    sa.Column('installed_on', sa.Date(), nullable=True),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_code'], ['carriers.code'], name=op.f('fk_meters_carrier_code_carriers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['flow_from_node_id'], ['nodes.id'], name=op.f('fk_meters_flow_from_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['flow_to_node_id'], ['nodes.id'], name=op.f('fk_meters_flow_to_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_meters_node_id_nodes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['parent_meter_id'], ['meters.id'], name=op.f('fk_meters_parent_meter_id_meters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariffs.id'], name=op.f('fk_meters_tariff_id_tariffs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    sa.UniqueConstraint('code', name=op.f('uq_meters_code'))
    )
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meters_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meters_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tariff_bands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('band', sa.String(length=12), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariffs.id'], name=op.f('fk_tariff_bands_tariff_id_tariffs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_bands')),
    sa.UniqueConstraint('tariff_id', 'band', name=op.f('uq_tariff_bands_tariff_id_band'))
    )
    with op.batch_alter_table('tariff_bands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tariff_bands_tariff_id'), ['tariff_id'], unique=False)

    op.create_table('tariff_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.String(length=40), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.Column('band', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariffs.id'], name=op.f('fk_tariff_periods_tariff_id_tariffs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_periods'))
    )
    with op.batch_alter_table('tariff_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tariff_periods_tariff_id'), ['tariff_id'], unique=False)

    op.create_table('meter_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('old_final_value', sa.Float(), nullable=True),
    sa.Column('new_initial_value', sa.Float(), nullable=True),
    sa.Column('new_multiplier', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_meter_events_meter_id_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_events'))
    )
    with op.batch_alter_table('meter_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meter_events_meter_id'), ['meter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meter_events_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('quality_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=True),
    sa.Column('start_ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('end_ts', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_quality_events_meter_id_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_events'))
    )
    with op.batch_alter_table('quality_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_events_meter_id_start_ts'), ['meter_id', 'start_ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_events_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quality_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_events_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_quality_events_meter_id_start_ts'))

    op.drop_table('quality_events')
    with op.batch_alter_table('meter_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meter_events_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_meter_events_meter_id'))

    op.drop_table('meter_events')
    with op.batch_alter_table('tariff_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tariff_periods_tariff_id'))

    op.drop_table('tariff_periods')
    with op.batch_alter_table('tariff_bands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tariff_bands_tariff_id'))

    op.drop_table('tariff_bands')
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meters_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_meters_node_id'))

    op.drop_table('meters')
    op.drop_table('tariffs')
    with op.batch_alter_table('production_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_production_records_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_production_records_node_id'))

    op.drop_table('production_records')
    with op.batch_alter_table('fuel_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fuel_deliveries_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_fuel_deliveries_node_id'))

    op.drop_table('fuel_deliveries')
    with op.batch_alter_table('economic_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_economic_records_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_economic_records_node_id'))

    op.drop_table('economic_records')
    op.drop_table('rollup_month')
    op.drop_table('rollup_hour')
    op.drop_table('rollup_day')
    op.drop_index('ix_readings_meter_id_ts_brin', table_name='readings', if_exists=True)
    op.drop_table('readings')
    with op.batch_alter_table('reading_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reading_revisions_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_reading_revisions_meter_id_ts'))

    op.drop_table('reading_revisions')
    op.drop_table('products')
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nodes_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_nodes_path'))
        batch_op.drop_index(batch_op.f('ix_nodes_parent_id'))

    op.drop_table('nodes')
    op.drop_table('meter_tails')
    op.drop_table('meta')
    op.drop_table('ingest_batches')
    op.drop_table('gap_spans')
    op.drop_table('carriers')
