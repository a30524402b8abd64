/**
 * A TLS front for a plain HTTP server (the simulator): `https://localhost:<port>` with a
 * self-signed certificate made by `openssl` for the test, each connection's bytes relayed to the
 * server as they come (no HTTP re-framing: a body's last chunk and its end stay together, as the
 * server wrote them), and every TLS handshake held back by `handshakeDelayMs` (the SNI callback
 * answers that late), so a test knows how long a new connection's handshake took.
 */
import { execFile } from 'node:child_process';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer } from 'node:tls';
import { promisify } from 'node:util';

export interface TlsFront {
  /** `https://localhost:<port>`: the target's paths, over TLS. */
  origin: string;
  /** The certificate, for the client's `ca`. */
  ca: string;
  /** When each handshake was let through (epoch ms, the spans' time base). */
  handshakes: number[];
  close(): Promise<void>;
}

/** A self-signed certificate for `localhost`, or undefined (with the reason) when `openssl` cannot make one. */
async function selfSigned(): Promise<{ key: string; cert: string } | { missing: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'llm-prism-tls-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert,
    ]);
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } catch (err) {
    return { missing: `openssl could not make a certificate: ${(err as Error).message}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `target`: the server's origin (`http://127.0.0.1:<port>`). */
export async function startTlsFront(target: string, handshakeDelayMs: number): Promise<TlsFront | { missing: string }> {
  const pair = await selfSigned();
  if ('missing' in pair) return pair;
  const context = createSecureContext(pair);
  const handshakes: number[] = [];
  const { hostname, port: targetPort } = new URL(target);
  const open = new Set<Socket>();
  const server = createServer(
    {
      ...pair,
      SNICallback: (_name, done) =>
        setTimeout(() => {
          handshakes.push(performance.timeOrigin + performance.now());
          done(null, context);
        }, handshakeDelayMs),
    },
    (client) => {
      const upstream = connect(Number(targetPort), hostname);
      for (const socket of [client, upstream]) {
        open.add(socket);
        socket.on('close', () => open.delete(socket));
      }
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://localhost:${port}`,
    ca: pair.cert,
    handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
