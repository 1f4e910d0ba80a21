// The demo data of the payroll example, on top of the quickstart's (examples/quickstart/main.js). It runs at
// every start: the resource gets the key payroll made at this start, so an older `.tessera-demo` works too.
import { ensureDemoClient } from '../quickstart/demo-client.js';

import { PAYROLL_AUDIENCE, PAYROLL_SCOPE } from './server.js';

export const HR_CLIENT_ID = 'hr-app';
const EMPLOYEE_ROLE = 'employee';
const DEMO_ACTOR = Object.freeze({ actor: 'demo', ip: 'local' });

/**
 * Makes sure the auth server of `context` (a TesseraServer's, before it listens; `admin` its admin service) has
 *  - the resource `payroll` (audience "payroll"): access tokens encrypted to `publicJwk` (payroll's key of this
 *    start; the previous start's key is replaced, its private half being gone), with the user's `email` in them;
 *  - the `hr-app` client: first-party, password grant, scopes `payroll:read email`, audience "payroll";
 *  - the `employee` role (permission `payroll:read`), given to `alice` (whose email the web example sets).
 * The secret of a new client goes into `demo` (the demo credentials); returns true when the caller must save it.
 */
export async function ensurePayrollDemo(context, admin, demo, publicJwk) {
  const { store, now } = context;
  const resource = {
    name: 'payroll',
    resource: PAYROLL_AUDIENCE,
    encrypt_access_tokens: true,
    encryption_keys: [publicJwk],
    access_token_claims: ['email'],
  };
  const existing = (await admin.resources.list()).some((r) => r.name === resource.name);
  if (existing) await admin.resources.replace(DEMO_ACTOR, resource.name, resource);
  else await admin.resources.add(DEMO_ACTOR, resource);

  const { created } = await ensureDemoClient(context, demo, 'hrApp', {
    id: HR_CLIENT_ID,
    authMethod: 'client_secret_post',
    firstParty: true,
    grantTypes: ['password'],
    scopes: [PAYROLL_SCOPE, 'email'],
    audiences: [PAYROLL_AUDIENCE],
  });
  await store.roles.put({ name: EMPLOYEE_ROLE, permissions: [PAYROLL_SCOPE] });
  const alice = await store.users.getByUsername('alice');
  if (alice && !alice.roles.includes(EMPLOYEE_ROLE))
    await store.users.update(alice.id, { roles: [...alice.roles, EMPLOYEE_ROLE] }, now());
  return created;
}
