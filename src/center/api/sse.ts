// Turns a Fastify reply into a Server-Sent Events stream the watch hub and the event feed can write to.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StreamSink } from '../watch-hub.ts';

/**
 * Subscribes first (a refusal, e.g. the stream limit, still answers as a normal error), then hijacks the reply,
 * sends the SSE headers and what the subscription wrote meanwhile, and calls the unsubscribe once the peer goes away.
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, onOpen: (sink: StreamSink) => () => void): void {
  const raw = reply.raw;
  const early: string[] = [];
  let started = false;
  let open = true;
  let ended = false;
  const sink: StreamSink = {
    write: (text) => {
      if (!open) return false;
      if (!started) { early.push(text); return true; }
      return raw.write(text);
    },
    end: () => {
      if (!open) return;
      open = false;
      ended = true;
      if (started) raw.end();
    },
  };
  const unsubscribe = onOpen(sink);
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // A connection header is HTTP/1 only: HTTP/2 forbids it (the stream is one of the connection's).
    ...(request.raw.httpVersionMajor < 2 ? { connection: 'keep-alive' } : {}),
    'x-accel-buffering': 'no',
  });
  started = true;
  for (const text of early) raw.write(text);
  if (ended) raw.end();
  else raw.flushHeaders();
  const close = (): void => { open = false; unsubscribe(); };
  request.raw.once('close', close);
  raw.once('error', close);
}
