import type { Kysely } from 'kysely';

import type { Role, RoleRepository } from '../roles.js';
import type { Database } from '../schema.js';
import { RowReader } from './row.js';

const permissionsOf = (row: object) => new RowReader('roles', row).strings('permissions');

export class SqlRoleRepository implements RoleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async put(role: Role): Promise<void> {
    const permissions = JSON.stringify(role.permissions);
    await this.db
      .insertInto('roles')
      .values({ name: role.name, permissions })
      .onConflict((oc) => oc.column('name').doUpdateSet({ permissions }))
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('roles').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list(): Promise<Role[]> {
    return (await this.db.selectFrom('roles').selectAll().orderBy('name').execute()).map((row) => ({
      name: new RowReader('roles', row).text('name'),
      permissions: permissionsOf(row),
    }));
  }

  async permissionsOf(roleNames: readonly string[]): Promise<string[]> {
    if (roleNames.length === 0) return [];
    const rows = await this.db
      .selectFrom('roles')
      .select('permissions')
      .where('name', 'in', [...roleNames])
      .execute();
    return [...new Set(rows.flatMap(permissionsOf))];
  }
}
