// A lab device's service: a tiny HTTP server on a device host (or a site gateway) that answers every
// request with exactly `site=<site> device=<device>`. Run standalone with Node 24, one process per device.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    site: { type: 'string' },
    device: { type: 'string' },
    port: { type: 'string', default: '80' },
    host: { type: 'string', default: '0.0.0.0' },
    'ready-file': { type: 'string' },
  },
});
// No process.exit (only src/cli may call it): an exit code is set and the process ends once its server is closed.
function serve(site: string, device: string): void {
  const body = `site=${site} device=${device}`;
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  server.listen(Number(values.port), values.host, () => {
    process.stdout.write(`${JSON.stringify({ msg: 'listening', site, device, port: Number(values.port), pid: process.pid })}\n`);
    if (values['ready-file'] !== undefined) writeFileSync(values['ready-file'], `${process.pid}\n`);
  });
  server.on('error', (error) => {
    process.stderr.write(`device-service: ${error.message}\n`);
    process.exitCode = 1;
    server.close();
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      server.close();
      server.closeAllConnections();
    });
  }
}

if (values.site === undefined || values.device === undefined) {
  process.stderr.write('device-service: --site and --device are required\n');
  process.exitCode = 2;
} else {
  serve(values.site, values.device);
}
