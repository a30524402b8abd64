/**
 * HTTPS in front of a plain test server (the simulator): a TLS terminator on loopback that pipes
 * each connection's decrypted bytes to the target port unchanged, so the target's send times stay
 * the truth. With `handshakeDelayMs` every handshake is held back that long (the SNI callback
 * answers late), so a test knows how long a new connection's handshake took. Its certificate is a test-only, self-signed one for `localhost` and `127.0.0.1`
 * (tls/localhost.crt, also the CA a client trusts; tls/localhost.key), generated once, valid 100 years:
 *
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -keyout localhost.key -out localhost.crt -days 36500 -subj "/CN=localhost" \
 *     -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

/** The certificate's file, for `NODE_EXTRA_CA_CERTS`. */
export const TEST_CA_FILE = fileURLToPath(new URL('./tls/localhost.crt', import.meta.url));
/** The certificate as a client's `ca`. */
export const TEST_CA = readFileSync(TEST_CA_FILE, 'utf8');
const TEST_KEY = readFileSync(fileURLToPath(new URL('./tls/localhost.key', import.meta.url)), 'utf8');

export interface TlsFrontOptions {
  /**
   * Each TLS handshake waits this long in the SNI callback. A client sends SNI only for a host
   * name, so the front's origin is then `https://localhost:PORT`.
   */
  handshakeDelayMs?: number;
}

export interface TlsFront {
  /** `https://127.0.0.1:PORT`, or `https://localhost:PORT` with `handshakeDelayMs`. */
  origin: string;
  /** When each delayed handshake was let through (epoch ms, the spans' time base). */
  handshakes: number[];
  close(): Promise<void>;
}

/** Keeps both ends of a relayed connection in `sockets` until closed; an error on either ends both. */
export function trackPair(sockets: Set<net.Socket>, client: net.Socket, upstream: net.Socket): void {
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
}

/** Serves `target` (a loopback URL such as the simulator's) over HTTPS; returns the front's origin. */
export async function startTlsFront(target: string, options: TlsFrontOptions = {}): Promise<TlsFront> {
  const { hostname, port } = new URL(target);
  const { handshakeDelayMs } = options;
  const sockets = new Set<net.Socket>();
  const handshakes: number[] = [];
  const context = tls.createSecureContext({ key: TEST_KEY, cert: TEST_CA });
  const SNICallback = (_name: string, done: (err: Error | null, ctx?: tls.SecureContext) => void) =>
    setTimeout(() => {
      handshakes.push(performance.timeOrigin + performance.now());
      done(null, context);
    }, handshakeDelayMs);
  const delayed = handshakeDelayMs === undefined ? {} : { SNICallback };
  const server = tls.createServer({ key: TEST_KEY, cert: TEST_CA, ...delayed }, (client) => {
    const upstream = net.connect({ host: hostname, port: Number(port), noDelay: true });
    client.setNoDelay(true);
    trackPair(sockets, client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `https://${handshakeDelayMs === undefined ? '127.0.0.1' : 'localhost'}:${(server.address() as net.AddressInfo).port}`,
    handshakes,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
