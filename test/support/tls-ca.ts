// Certificates for tests of the center over TLS: a CA (openssl) and, on request, a certificate for 127.0.0.1 it signed.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** Writes `name.pem`/`name.key` (a CA) in `dir` and, when `server` is set, `server.pem`/`server.key` for 127.0.0.1 it signed. */
export function makeCa(dir: string, name: string, server: boolean): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  if (!server) return;
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=center']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', `${name}.pem`, '-CAkey', `${name}.key`, '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  chmodSync(join(dir, 'server.key'), 0o600);
}
