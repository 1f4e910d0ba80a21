/** Who made an admin change, as the audit trail records it. */
export interface Actor {
  /** The admin token's `sub` (or client), `cli` for the command line. */
  actor: string | null;
  ip: string | null;
}

/** Changes made with the `tessera` command in the data folder. */
export const CLI_ACTOR: Actor = Object.freeze({ actor: 'cli', ip: 'local' });
