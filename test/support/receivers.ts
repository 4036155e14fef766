import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 (the smtp-server package) that keeps every message it accepts. */
export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
  messageId: string;
}

export async function startSmtpReceiver(): Promise<{ url: string; mails: ReceivedMail[]; close(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            messageId: parsed.messageId ?? '',
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A local HTTP receiver for robot webhooks: records each request, answers with the next scripted status. */
export interface ReceivedPost {
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export async function startHttpReceiver(): Promise<{
  url: string;
  posts: ReceivedPost[];
  /** statuses to answer with, in order (then 200 {"errcode":0}) */
  script: Array<number | { status: number; body: unknown }>;
  close(): Promise<void>;
}> {
  const posts: ReceivedPost[] = [];
  const script: Array<number | { status: number; body: unknown }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      posts.push({ path: url.pathname, query: url.searchParams, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') });
      const next = script.shift() ?? { status: 200, body: { errcode: 0, errmsg: 'ok' } };
      const { status, body } = typeof next === 'number' ? { status: next, body: { errcode: next === 200 ? 0 : -1, errmsg: 'scripted' } } : next;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    script,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
