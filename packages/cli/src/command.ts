/** One `tessera <group> <action>` command: its usage text and its handler (given the arguments after the name). */
export interface Command {
  /** E.g. `token verify`. */
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<void>;
}
