"""manual entry with review, evidence files and the hash-chained audit log

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import nengtan.store.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ts', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    op.create_index(op.f('ix_audit_log_object_type_object_id'), 'audit_log', ['object_type', 'object_id'], unique=False)
    op.create_index(op.f('ix_audit_log_tenant_id'), 'audit_log', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_audit_log_ts'), 'audit_log', ['ts'], unique=False)
    op.create_index(op.f('ix_audit_log_user_name'), 'audit_log', ['user_name'], unique=False)
    op.create_table('evidence_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_files'))
    )
    op.create_index(op.f('ix_evidence_files_sha256'), 'evidence_files', ['sha256'], unique=False)
    op.create_index(op.f('ix_evidence_files_tenant_id'), 'evidence_files', ['tenant_id'], unique=False)
    op.create_table('manual_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('approved_version', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manual_entries'))
    )
    op.create_index(op.f('ix_manual_entries_status_kind'), 'manual_entries', ['status', 'kind'], unique=False)
    op.create_index(op.f('ix_manual_entries_tenant_id'), 'manual_entries', ['tenant_id'], unique=False)
    op.create_table('manual_entry_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('retract', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=100), nullable=True),
    sa.Column('submitted_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('target_table', sa.String(length=40), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('target_ts', nengtan.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['manual_entries.id'], name=op.f('fk_manual_entry_versions_entry_id_manual_entries'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manual_entry_versions')),
    sa.UniqueConstraint('entry_id', 'version', name=op.f('uq_manual_entry_versions_entry_id_version'))
    )
    op.create_index(op.f('ix_manual_entry_versions_submitted_by'), 'manual_entry_versions', ['submitted_by'], unique=False)
    op.create_index(op.f('ix_manual_entry_versions_target_table_target_id'), 'manual_entry_versions', ['target_table', 'target_id'], unique=False)
    op.create_table('manual_entry_evidence',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('attached_by', sa.String(length=100), nullable=False),
    sa.Column('attached_at', nengtan.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence_files.id'], name=op.f('fk_manual_entry_evidence_evidence_id_evidence_files'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['version_id'], ['manual_entry_versions.id'], name=op.f('fk_manual_entry_evidence_version_id_manual_entry_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'evidence_id', name=op.f('pk_manual_entry_evidence'))
    )
    op.create_index(op.f('ix_manual_entry_evidence_evidence_id'), 'manual_entry_evidence', ['evidence_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_manual_entry_evidence_evidence_id'), table_name='manual_entry_evidence')
    op.drop_table('manual_entry_evidence')
    op.drop_index(op.f('ix_manual_entry_versions_target_table_target_id'), table_name='manual_entry_versions')
    op.drop_index(op.f('ix_manual_entry_versions_submitted_by'), table_name='manual_entry_versions')
    op.drop_table('manual_entry_versions')
    op.drop_index(op.f('ix_manual_entries_tenant_id'), table_name='manual_entries')
    op.drop_index(op.f('ix_manual_entries_status_kind'), table_name='manual_entries')
    op.drop_table('manual_entries')
    op.drop_index(op.f('ix_evidence_files_tenant_id'), table_name='evidence_files')
    op.drop_index(op.f('ix_evidence_files_sha256'), table_name='evidence_files')
    op.drop_table('evidence_files')
    op.drop_index(op.f('ix_audit_log_user_name'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_ts'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_tenant_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_object_type_object_id'), table_name='audit_log')
    op.drop_table('audit_log')
