// `llm-prism serve` as a child process: started on a chosen port and data directory, so a test can
// kill it (SIGKILL) and start a new one where the old one was.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

export interface ServeProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

export interface ServeOptions {
  dataDir: string;
  port: number;
  args?: string[];
  startTimeoutMs?: number;
}

/** A port that was free a moment ago (listen on 0, read it, close): the restarted server reuses it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', String(options.port), '--host', '127.0.0.1', '--data-dir', options.dataDir, ...(options.args ?? [])],
    { env: { ...process.env, LLM_PRISM_TOKENS: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), options.startTimeoutMs ?? 30_000);
    const onData = () => {
      if (!/listening on http:/.test(stderr)) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve();
    };
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
  return { url: `http://127.0.0.1:${options.port}`, child, stderr: () => stderr, exited };
}

/** SIGTERM, then wait (bounded) for the graceful exit; SIGKILL if it does not come. */
export async function stopServe(serve: ServeProcess, timeoutMs = 30_000): Promise<number | string> {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return serve.exited;
  serve.child.kill('SIGTERM');
  const timer = setTimeout(() => serve.child.kill('SIGKILL'), timeoutMs);
  try {
    return await serve.exited;
  } finally {
    clearTimeout(timer);
  }
}
