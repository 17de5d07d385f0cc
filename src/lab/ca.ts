// The lab's secrets: a CA made with openssl, the center's certificate (IP:10.10.0.2, DNS:center.lab),
// the fleet enrollment secret and the operator token (hub tokens come from `keyhole center hubs add`). Every secret file is 0600.
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { CENTER_ADDRESS } from './plan.ts';
import { run } from './spawn.ts';
import type { LabFiles } from './files.ts';

export const CENTER_DNS = 'center.lab';
const DAYS = '30';

/** The openssl config the lab signs with: ours, so the machine's openssl.cnf changes nothing. */
export function opensslConfig(): string {
  return [
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', 'CN = keyhole lab',
    '[ca_ext]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
    '[center_ext]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth', `subjectAltName = IP:${CENTER_ADDRESS},DNS:${CENTER_DNS}`,
    'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', '',
  ].join('\n');
}

function writeSecret(path: string, value: string): void {
  writeFileSync(path, value, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A random secret in base64url, written without a newline so a reader cannot get it wrong. */
function newSecret(path: string): void {
  writeSecret(path, randomBytes(32).toString('base64url'));
}

export async function makeSecrets(files: LabFiles, prefix: string, { signal }: { signal: AbortSignal }): Promise<void> {
  writeFileSync(files.caConfig, opensslConfig(), { mode: 0o644 });
  const key = (path: string) => ['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path];
  await run(key(files.caKey), { signal });
  chmodSync(files.caKey, 0o600);
  await run(['openssl', 'req', '-x509', '-new', '-config', files.caConfig, '-extensions', 'ca_ext', '-key', files.caKey,
    '-subj', `/CN=keyhole lab CA (${prefix})`, '-days', DAYS, '-sha256', '-out', files.caCert], { signal });
  await run(key(files.centerKey), { signal });
  chmodSync(files.centerKey, 0o600);
  await run(['openssl', 'req', '-new', '-config', files.caConfig, '-key', files.centerKey, '-subj', `/CN=${CENTER_DNS}`,
    '-out', files.centerCsr], { signal });
  await run(['openssl', 'x509', '-req', '-in', files.centerCsr, '-CA', files.caCert, '-CAkey', files.caKey,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', DAYS, '-sha256',
    '-extfile', files.caConfig, '-extensions', 'center_ext', '-out', files.centerCert], { signal });
  rmSync(files.centerCsr, { force: true });
  newSecret(files.enrollSecret);
  newSecret(files.operatorToken);
}
