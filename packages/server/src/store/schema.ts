import type { Generated } from 'kysely';

/** Row types of the SQL stores. JSON columns are text; times are integer milliseconds. */
export interface Database {
  users: {
    id: string;
    username: string;
    password_hash: string;
    disabled: number;
    roles: string;
    name: string | null;
    given_name: string | null;
    family_name: string | null;
    email: string | null;
    email_verified: number;
    created_at: number;
    updated_at: number;
  };
  roles: { name: string; permissions: string };
  clients: {
    id: string;
    name: string;
    auth_method: string;
    secrets: string;
    jwks: string | null;
    grant_types: string;
    scopes: string;
    audiences: string;
    first_party: number;
    may_impersonate: number;
    redirect_uris: string;
    post_logout_redirect_uris: string;
    require_par: number;
    dpop_bound: number;
    mtls_bound: number;
    tls_subject_kind: string | null;
    tls_subject: string | null;
    id_token_alg: string | null;
    access_token_ttl: number | null;
    refresh_token_ttl: number | null;
    disabled: number;
    created_at: number;
    updated_at: number;
  };
  refresh_families: {
    id: string;
    user_id: string;
    client_id: string;
    scope: string;
    audience: string;
    created_at: number;
    absolute_expires_at: number;
    last_used_at: number;
    revoked_at: number | null;
    revoked_reason: string | null;
    /** The revocation record that announced the family's revocation (null: none yet). */
    revocation_seq: number | null;
    /** The browser session the family ends with (null: none, it outlives it). */
    browser_session_id: string | null;
    /** The DPoP key thumbprint the family's refresh tokens are bound to (null: not bound). */
    dpop_jkt: string | null;
    /** The client certificate thumbprint (RFC 8705 x5t#S256) the family's refresh tokens are bound to (null: not bound). */
    x5t_s256: string | null;
  };
  refresh_tokens: { digest: string; family_id: string; created_at: number; expires_at: number; used_at: number | null };
  revocations: {
    seq: Generated<number>;
    kind: string;
    value: string;
    cutoff: number | null;
    expires_at: number;
    created_at: number;
    reason: string;
  };
  signing_keys: {
    kid: string;
    alg: string;
    state: string;
    encrypted_private_key: string;
    public_jwk: string | null;
    created_at: number;
    activates_at: number;
    retired_at: number | null;
    remove_after: number | null;
  };
  audit_events: {
    id: Generated<number>;
    time: number;
    type: string;
    outcome: string;
    actor: string | null;
    subject: string | null;
    client_id: string | null;
    ip: string | null;
    data: string;
  };
  assertion_jtis: { client_id: string; jti: string; expires_at: number };
  leases: { name: string; holder: string; expires_at: number };
  browser_sessions: {
    digest: string;
    id: string;
    user_id: string;
    auth_time: number;
    created_at: number;
    idle_expires_at: number;
    absolute_expires_at: number;
  };
  authorization_codes: {
    digest: string;
    client_id: string;
    user_id: string;
    redirect_uri: string;
    code_challenge: string;
    scope: string;
    audience: string;
    auth_time: number;
    created_at: number;
    expires_at: number;
    used_at: number | null;
    family_id: string | null;
    browser_session_id: string | null;
    nonce: string | null;
    acr: string | null;
    amr: string;
    dpop_jkt: string | null;
  };
  authorization_requests: { digest: string; client_id: string; params: string; created_at: number; expires_at: number };
  consents: { user_id: string; client_id: string; scopes: string; granted_at: number };
  workload_issuers: { name: string; issuer: string; document: string; created_at: number; updated_at: number };
  resources: { name: string; resource: string; document: string; created_at: number; updated_at: number };
  encrypted_access_tokens: { digest: string; inner: string; expires_at: number };
}
