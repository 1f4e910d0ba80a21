/**
 * SseParser: the `text/event-stream` format (WHATWG HTML, "Server-sent events", parsing an event stream)
 * as the revocation list reads it. Line ends are LF, CRLF or CR, and a stream may be cut into chunks
 * anywhere, a CRLF included: whatever the cuts, the same events come out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { SseParser, type SseEvent } from '@tessera/verifier/internal';

interface Parsed {
  events: SseEvent[];
  comments: string[];
  retries: number[];
}

function parse(chunks: readonly string[], maxLineLength?: number): Parsed {
  const out: Parsed = { events: [], comments: [], retries: [] };
  const parser = new SseParser(
    {
      onEvent: (e) => out.events.push(e),
      onComment: (c) => out.comments.push(c),
      onRetry: (ms) => out.retries.push(ms),
    },
    maxLineLength,
  );
  for (const c of chunks) parser.feed(c);
  return out;
}

/** Cuts `text` at each of `at` (sorted, possibly repeated: repeats make empty chunks). */
function cut(text: string, at: readonly number[]): string[] {
  const points = [...at].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(text.slice(from, p));
    from = p;
  }
  chunks.push(text.slice(from));
  return chunks;
}

const EOLS = { LF: '\n', CRLF: '\r\n', CR: '\r' } as const;

/** A stream using every feature once, written with `eol`, and the events it holds. */
function sample(eol: string): { text: string; expected: Parsed } {
  const lines = [
    'retry: 1000',
    '',
    ': a comment',
    'id: 1',
    'event: revocation',
    'data: {"seq":1}',
    '',
    'event: heartbeat',
    'data: {"seq":1}',
    '',
    'data: first',
    'data:second',
    'data:  third',
    'data',
    '',
    'event: ignored-without-data',
    'id: 99',
    '',
    'unknown: field',
    'data: last',
    '',
  ];
  return {
    text: lines.join(eol) + eol,
    expected: {
      events: [
        { event: 'revocation', data: '{"seq":1}', id: '1' },
        { event: 'heartbeat', data: '{"seq":1}', id: undefined },
        { event: 'message', data: 'first\nsecond\n third\n', id: undefined },
        { event: 'message', data: 'last', id: undefined },
      ],
      comments: ['a comment'],
      retries: [1000],
    },
  };
}

describe('SseParser', () => {
  for (const [name, eol] of Object.entries(EOLS)) {
    it(`reads a stream with ${name} line ends in one chunk`, () => {
      const { text, expected } = sample(eol);
      assert.deepEqual(parse([text]), expected);
    });

    it(`reads a stream with ${name} line ends cut at every position, and byte by byte`, () => {
      const { text, expected } = sample(eol);
      for (let i = 0; i <= text.length; i++) assert.deepEqual(parse(cut(text, [i])), expected, `cut at ${i}`);
      assert.deepEqual(parse([...text]), expected, 'one character per chunk');
    });
  }

  it('treats a CR at the end of a chunk followed by LF as one line end, and by anything else as a line end of its own', () => {
    assert.deepEqual(parse(['data: a\r', '\ndata: b\r\n\r\n']).events, [{ event: 'message', data: 'a\nb', id: undefined }]);
    assert.deepEqual(parse(['data: a\r', 'data: b\r', '\r']).events, [{ event: 'message', data: 'a\nb', id: undefined }]);
    // CR, then a CR (the blank line), then LF: the LF belongs to the second CR.
    assert.deepEqual(parse(['data: a\r', '\r', '\ndata: b\n\n']).events, [
      { event: 'message', data: 'a', id: undefined },
      { event: 'message', data: 'b', id: undefined },
    ]);
  });

  it('an empty chunk between the CR and the LF of a CRLF changes nothing', () => {
    // A network read can deliver zero bytes; the CRLF must still count as one line end, not as an empty
    // line (which would dispatch the event half-read).
    assert.deepEqual(parse(['data: a\r', '', '\ndata: b\r\n\r\n']).events, [{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('does not dispatch an event without data, and forgets its fields', () => {
    const out = parse(['event: foo\nid: 7\n\n', 'retry: 5\n\n', ': only a comment\n\n', 'data: x\n\n']);
    assert.deepEqual(out.events, [{ event: 'message', data: 'x', id: undefined }]);
    assert.deepEqual(out.comments, ['only a comment']);
    assert.deepEqual(out.retries, [5]);
  });

  it('does not dispatch an event the stream leaves unfinished', () => {
    assert.deepEqual(parse(['data: never ended\n']).events, []);
    assert.deepEqual(parse(['data: never ended']).events, []);
  });

  it('a field name without a colon is a field with an empty value', () => {
    assert.deepEqual(parse(['data\n\n']).events, [{ event: 'message', data: '', id: undefined }]);
    assert.deepEqual(parse(['event\ndata: x\n\n']).events, [{ event: 'message', data: 'x', id: undefined }]);
    assert.deepEqual(parse(['id\ndata: x\n\n']).events, [{ event: 'message', data: 'x', id: '' }]);
  });

  it('removes one leading space of a value, no more, and keeps colons after the first', () => {
    assert.deepEqual(parse(['data:   x: y\n\n']).events, [{ event: 'message', data: '  x: y', id: undefined }]);
    assert.deepEqual(parse(['event:revocation\ndata:{"a":"b:c"}\n\n']).events, [
      { event: 'revocation', data: '{"a":"b:c"}', id: undefined },
    ]);
  });

  it('field names are case-sensitive', () => {
    assert.deepEqual(parse(['Data: x\nEVENT: y\n\n']).events, []);
  });

  it('reports retry only for a value of ASCII digits', () => {
    const out = parse(['retry: 250\nretry: 1e3\nretry: -1\nretry: 12ms\nretry:\nretry: 0\n\n']);
    assert.deepEqual(out.retries, [250, 0]);
  });

  it('keeps the id of the event that sets it, ignoring one that contains NUL', () => {
    const out = parse(['id: 41\ndata: a\n\n', 'id: 4\u00002\ndata: b\n\n', 'id: 42\nid: 43\ndata: c\n\n']);
    assert.deepEqual(
      out.events.map((e) => e.id),
      ['41', undefined, '43'],
    );
  });

  it('passes comments on without the colon and leading spaces', () => {
    assert.deepEqual(parse([':\n:x\n:   y z\n']).comments, ['', 'x', 'y z']);
  });

  it('throws on a line longer than the limit, in one chunk or many', () => {
    assert.throws(() => parse(['data: ' + 'x'.repeat(100)], 64), RangeError);
    assert.throws(
      () =>
        parse(
          Array.from({ length: 20 }, () => 'xxxxxxxx'),
          64,
        ),
      RangeError,
    );
    // Complete lines under the limit are fine however much text a chunk holds.
    const many = 'data: 0123456789\n\n'.repeat(100);
    assert.equal(parse([many], 64).events.length, 100);
  });

  it('the default line limit stops a stream that never ends its line', () => {
    const parser = new SseParser({ onEvent: () => assert.fail('no event') });
    const block = 'x'.repeat(64 * 1024);
    assert.throws(() => {
      for (let i = 0; i < 32; i++) parser.feed(block);
    }, RangeError);
  });

  it('throws on an event with too many data lines', () => {
    assert.throws(() => parse(['data: x\n'.repeat(10_001)]), RangeError);
  });

  it('property: any cutting of a valid stream yields the same events, comments and retries', () => {
    const field = fc.stringMatching(/^[a-z0-9 {}":,]{0,12}$/);
    const block = fc.oneof(
      fc.record({
        event: fc.option(fc.constantFrom('revocation', 'heartbeat', 'reset'), { nil: undefined }),
        id: fc.option(fc.stringMatching(/^[0-9]{1,4}$/), { nil: undefined }),
        data: fc.array(field, { minLength: 0, maxLength: 3 }),
      }),
      fc.record({ comment: field }),
      fc.record({ retry: fc.nat(100_000) }),
    );
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    const stream = fc.array(fc.tuple(block, eol), { minLength: 1, maxLength: 8 });

    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (blocks, rawCuts) => {
        let text = '';
        const expected: Parsed = { events: [], comments: [], retries: [] };
        for (const [b, e] of blocks) {
          if ('comment' in b) {
            text += `:${b.comment}${e}`;
            expected.comments.push(b.comment.trimStart());
          } else if ('retry' in b) {
            text += `retry: ${b.retry}${e}${e}`;
            expected.retries.push(b.retry);
          } else {
            if (b.event !== undefined) text += `event: ${b.event}${e}`;
            if (b.id !== undefined) text += `id: ${b.id}${e}`;
            for (const d of b.data) text += `data: ${d}${e}`;
            text += e;
            if (b.data.length > 0) expected.events.push({ event: b.event ?? 'message', data: b.data.join('\n'), id: b.id });
          }
        }
        const cuts = rawCuts.map((c) => c % (text.length + 1));
        assert.deepEqual(parse(cut(text, cuts)), expected);
      }),
      { numRuns: 500 },
    );
  });
});
