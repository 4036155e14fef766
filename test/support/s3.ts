import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** The part of s3rver 3.7 we use (the package ships no type declarations). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

// `require` because s3rver has no types; the cast names exactly what we call.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverConstructor;

export interface S3rverHandle {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 (random port) over a fresh temp directory with one bucket.
 * `stop()` closes it (dropping keep-alive sockets) and removes the directory.
 */
export async function startS3rver(bucket = 'changxiang-test'): Promise<S3rverHandle> {
  const directory = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER', // s3rver's built-in account
    secretAccessKey: 'S3RVER',
    async stop() {
      if (stopped) return;
      stopped = true;
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
      await fsp.rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Starts s3rver in its own Node process (same options as {@link startS3rver}). For tests that
 * measure this process's memory: an in-process s3rver's request and file buffers would count
 * against the code under test (a 200 MiB round trip once measured 112 MiB of "growth" that way).
 * `stop()` ends the process and removes the directory.
 */
export async function startS3rverProcess(bucket = 'changxiang-test'): Promise<S3rverHandle> {
  const directory = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-s3rver-'));
  const script = `
    const S3rver = require('s3rver');
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true,
      directory: process.argv[1], configureBuckets: [{ name: process.argv[2] }] });
    server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'));
    process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['-e', script, directory, bucket], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve((JSON.parse(out) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver process exited (${code}) before listening`)));
  });
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await fsp.rm(directory, { recursive: true, force: true });
    },
  };
}

/** Every key in the handle's bucket, sorted (what an operator would see with `mc ls -r`). */
export async function bucketKeys(s3: S3rverHandle): Promise<string[]> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    return (out.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    client.destroy();
  }
}
