/** One server-sent event (WHATWG HTML, "Server-sent events", the event stream format). */
export interface SseEvent {
  event: string;
  data: string;
  /** The `id` field of this event, if it had one. */
  id: string | undefined;
}

/**
 * An incremental parser of `text/event-stream`: feed it text as it arrives, it calls `onEvent` for each
 * complete event and `onComment` for comment lines (heartbeats some servers send). Lines end with CRLF, LF
 * or CR; a field's value loses one leading space; `retry` is reported through `onRetry`. A line longer than
 * `maxLineLength` throws, so a broken or hostile peer cannot grow memory without bound.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private pendingCr = false;

  constructor(
    private readonly handlers: { onEvent(e: SseEvent): void; onComment?(text: string): void; onRetry?(ms: number): void },
    private readonly maxLineLength = 1024 * 1024,
  ) {}

  feed(chunk: string): void {
    // An empty read must not clear a pending CR: the LF that may follow still belongs to it.
    if (chunk === '') return;
    let text = chunk;
    // A CR that ended the previous chunk may be the first half of a CRLF.
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === this.buffer.length) {
          this.pendingCr = true;
          next = cr + 1;
        } else next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLineLength) throw new RangeError('event-stream line too long');
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return this.handlers.onComment?.(line.slice(1).trimStart());
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        if (this.data.length > 10_000) throw new RangeError('event-stream event too long');
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const hasData = this.data.length > 0;
    const e: SseEvent = { event: this.event || 'message', data: this.data.join('\n'), id: this.id };
    this.event = '';
    this.data = [];
    this.id = undefined;
    if (hasData) this.handlers.onEvent(e);
  }
}
