/** A raw protocol client over `ws`: the wire as the gateway sees it, without an SDK in between. */
import WebSocket, { type ClientOptions } from 'ws';

/** A raw protocol client: sends lines, collects every JSON object the server sends. */
export class Raw {
  readonly ws: WebSocket;
  readonly messages: Record<string, unknown>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  /** `options`: the `ws` client's (TLS: `ca`, and a client certificate's `cert` and `key`). */
  constructor(url: string, options?: ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      for (const line of data.toString().split('\n')) if (line) this.messages.push(JSON.parse(line) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  async open(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return;
    await new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
  }

  send(...commands: (Record<string, unknown> | string)[]): void {
    this.ws.send(commands.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))).join('\n'));
  }

  /** The first message for which `match` holds (already received or within `ms`). */
  async next(match: (m: Record<string, unknown>) => boolean, ms = 3_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no matching message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  reply(id: number): Promise<Record<string, unknown>> {
    return this.next((m) => m.id === id);
  }

  async connect(token: string): Promise<Record<string, unknown>> {
    await this.open();
    this.send({ id: 1, connect: { token } });
    return this.reply(1);
  }
}

/** The raw clients of a test, opened on the gateway's URL as it is when asked for, all ended by `terminate`. */
export class RawClients {
  private readonly all: Raw[] = [];
  constructor(private readonly url: () => string) {}

  /** A new client, its WebSocket open. */
  async open(): Promise<Raw> {
    const r = new Raw(this.url());
    this.all.push(r);
    await r.open();
    return r;
  }

  terminate(): void {
    for (const r of this.all) r.ws.terminate();
  }
}
