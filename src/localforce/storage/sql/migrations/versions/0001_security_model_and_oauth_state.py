"""security model and oauth state

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auth_codes',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.String(length=18), nullable=False),
    sa.Column('user_id', sa.String(length=18), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('code_challenge', sa.String(length=255), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('nonce', sa.Text(), nullable=True),
    sa.Column('family_id', sa.String(length=32), nullable=False),
    sa.Column('issued_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('consumed_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_auth_codes'))
    )
    op.create_table('device_codes',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('user_code', sa.String(length=16), nullable=False),
    sa.Column('app_id', sa.String(length=18), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.String(length=18), nullable=True),
    sa.Column('interval', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('last_polled_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_device_codes')),
    sa.UniqueConstraint('user_code', name=op.f('uq_device_codes_user_code'))
    )
    op.create_table('jwt_replay',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_jwt_replay'))
    )
    op.create_table('login_history',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('org_id', sa.String(length=18), nullable=True),
    sa.Column('user_id', sa.String(length=18), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=True),
    sa.Column('login_time', sa.BigInteger(), nullable=False),
    sa.Column('login_type', sa.String(length=40), nullable=False),
    sa.Column('source_ip', sa.String(length=39), nullable=True),
    sa.Column('status', sa.String(length=128), nullable=False),
    sa.Column('application', sa.String(length=255), nullable=True),
    sa.Column('app_id', sa.String(length=18), nullable=True),
    sa.Column('browser', sa.String(length=64), nullable=True),
    sa.Column('platform', sa.String(length=64), nullable=True),
    sa.Column('login_url', sa.String(length=1024), nullable=True),
    sa.Column('api_type', sa.String(length=40), nullable=True),
    sa.Column('api_version', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_history'))
    )
    with op.batch_alter_table('login_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_history_org_id_login_time'), ['org_id', 'login_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_history_user_id'), ['user_id'], unique=False)

    op.create_table('orgs',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('my_domain', sa.String(length=63), nullable=True),
    sa.Column('username_password_flow', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('modified_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orgs'))
    )
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=40), nullable=False),
    sa.Column('private_key_sealed', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('active_from', sa.BigInteger(), nullable=False),
    sa.Column('retire_after', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_keys'))
    )
    op.create_table('tokens',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('org_id', sa.String(length=18), nullable=False),
    sa.Column('user_id', sa.String(length=18), nullable=False),
    sa.Column('app_id', sa.String(length=18), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('family_id', sa.String(length=32), nullable=False),
    sa.Column('parent_digest', sa.String(length=64), nullable=True),
    sa.Column('flow', sa.String(length=30), nullable=False),
    sa.Column('issued_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.Column('last_used_at', sa.BigInteger(), nullable=False),
    sa.Column('idle_timeout', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.Column('rotated_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_tokens'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tokens_parent_digest'), ['parent_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_tokens_user_id_app_id'), ['user_id', 'app_id'], unique=False)

    op.create_table('permission_sets',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('org_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('api_enabled', sa.Boolean(), nullable=False),
    sa.Column('view_all_data', sa.Boolean(), nullable=False),
    sa.Column('modify_all_data', sa.Boolean(), nullable=False),
    sa.Column('manage_users', sa.Boolean(), nullable=False),
    sa.Column('objects', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('modified_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_permission_sets_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permission_sets')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_permission_sets_org_id_name'))
    )
    op.create_table('profiles',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('org_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('standard', sa.Boolean(), nullable=False),
    sa.Column('api_enabled', sa.Boolean(), nullable=False),
    sa.Column('view_all_data', sa.Boolean(), nullable=False),
    sa.Column('modify_all_data', sa.Boolean(), nullable=False),
    sa.Column('manage_users', sa.Boolean(), nullable=False),
    sa.Column('objects', sa.JSON(), nullable=False),
    sa.Column('login_ip_ranges', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('modified_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_profiles_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_profiles_org_id_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('org_id', sa.String(length=18), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('username_key', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=128), nullable=False),
    sa.Column('first_name', sa.String(length=40), nullable=True),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('profile_id', sa.String(length=18), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('security_token_sealed', sa.Text(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.BigInteger(), nullable=True),
    sa.Column('time_zone', sa.String(length=40), nullable=False),
    sa.Column('locale', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=40), nullable=False),
    sa.Column('last_login_at', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('modified_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_users_org_id_orgs')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_users_profile_id_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username_key', name=op.f('uq_users_username_key'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_id'), ['org_id'], unique=False)

    op.create_table('apps',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('org_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('consumer_key', sa.String(length=255), nullable=False),
    sa.Column('consumer_secret_sealed', sa.Text(), nullable=True),
    sa.Column('callback_urls', sa.JSON(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('certificate', sa.Text(), nullable=True),
    sa.Column('require_pkce', sa.Boolean(), nullable=False),
    sa.Column('require_secret_web_server', sa.Boolean(), nullable=False),
    sa.Column('require_secret_refresh', sa.Boolean(), nullable=False),
    sa.Column('enable_implicit', sa.Boolean(), nullable=False),
    sa.Column('enable_device_flow', sa.Boolean(), nullable=False),
    sa.Column('enable_client_credentials', sa.Boolean(), nullable=False),
    sa.Column('run_as_user_id', sa.String(length=18), nullable=True),
    sa.Column('permitted_users', sa.String(length=20), nullable=False),
    sa.Column('authorized_profile_ids', sa.JSON(), nullable=False),
    sa.Column('authorized_permission_set_ids', sa.JSON(), nullable=False),
    sa.Column('ip_relaxation', sa.String(length=30), nullable=False),
    sa.Column('session_timeout_minutes', sa.Integer(), nullable=False),
    sa.Column('refresh_token_policy', sa.String(length=40), nullable=False),
    sa.Column('rotate_refresh_tokens', sa.Boolean(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('modified_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_apps_org_id_orgs')),
    sa.ForeignKeyConstraint(['run_as_user_id'], ['users.id'], name=op.f('fk_apps_run_as_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apps')),
    sa.UniqueConstraint('org_id', 'consumer_key', name=op.f('uq_apps_org_id_consumer_key')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_apps_org_id_name'))
    )
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apps_consumer_key'), ['consumer_key'], unique=False)

    op.create_table('user_permission_sets',
    sa.Column('user_id', sa.String(length=18), nullable=False),
    sa.Column('permission_set_id', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['permission_set_id'], ['permission_sets.id'], name=op.f('fk_user_permission_sets_permission_set_id_permission_sets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_permission_sets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'permission_set_id', name=op.f('pk_user_permission_sets'))
    )
    op.create_table('consents',
    sa.Column('user_id', sa.String(length=18), nullable=False),
    sa.Column('app_id', sa.String(length=18), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_consents_app_id_apps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'app_id', name=op.f('pk_consents'))
    )


def downgrade() -> None:
    op.drop_table('consents')
    op.drop_table('user_permission_sets')
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apps_consumer_key'))

    op.drop_table('apps')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_org_id'))

    op.drop_table('users')
    op.drop_table('profiles')
    op.drop_table('permission_sets')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_user_id_app_id'))
        batch_op.drop_index(batch_op.f('ix_tokens_parent_digest'))
        batch_op.drop_index(batch_op.f('ix_tokens_family_id'))

    op.drop_table('tokens')
    op.drop_table('signing_keys')
    op.drop_table('orgs')
    with op.batch_alter_table('login_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_history_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_history_org_id_login_time'))

    op.drop_table('login_history')
    op.drop_table('jwt_replay')
    op.drop_table('device_codes')
    op.drop_table('auth_codes')
