// A self-signed certificate for localhost/127.0.0.1, made once per test file by openssl.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TlsKeys {
  key: Buffer;
  cert: Buffer;
}

/** Makes a fresh key and certificate; `remove()` deletes their directory. */
export function makeTlsKeys(): TlsKeys & { remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenhub-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return {
    key: fs.readFileSync(path.join(dir, 'key.pem')),
    cert: fs.readFileSync(path.join(dir, 'cert.pem')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
