// Runs s3rver on S3RVER_ADDRESS:S3RVER_PORT over /data, as PID 1 of its container: it must handle
// SIGTERM/SIGINT itself (the kernel ignores signals PID 1 has no handler for).
'use strict';
const S3rver = require('s3rver');

const server = new S3rver({
  address: process.env.S3RVER_ADDRESS || '0.0.0.0',
  port: Number(process.env.S3RVER_PORT || 9000),
  directory: process.env.S3RVER_DIRECTORY || '/data',
  silent: process.env.S3RVER_SILENT === 'true',
});
server.run().then(
  ({ address, port }) => console.log(`s3rver listening on ${address}:${port}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    console.log(`s3rver: ${signal}, closing`);
    const closing = server.close();
    if (server.httpServer) server.httpServer.closeAllConnections();
    closing.then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
