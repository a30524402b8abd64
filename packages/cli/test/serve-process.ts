// `llm-prism serve` as a child process, as users start it: the URL is the one it prints, so a test
// can pass `--port 0`, kill it (SIGKILL) and start a new one where the old one was, or run the CLI
// of an installed package with another Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const sourceBin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));

export interface ServeProcess {
  /** What serve printed, e.g. `http://127.0.0.1:<port>` */
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

export interface ServeOptions {
  /** `--data-dir`; without it, serve's default under `cwd`. */
  dataDir?: string;
  /** `--port` (default 0: any free port). */
  port?: number;
  args?: string[];
  /** The CLI to run (default: this repo's source) and the Node to run it with. */
  bin?: string;
  node?: string;
  cwd?: string;
  /** Default: this process's environment without configured tokens (loopback only). */
  env?: NodeJS.ProcessEnv;
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

export async function startServe(options: ServeOptions = {}): Promise<ServeProcess> {
  const args = ['serve', '--port', String(options.port ?? 0), ...(options.dataDir ? ['--data-dir', options.dataDir] : []), ...(options.args ?? [])];
  const child = spawn(options.node ?? process.execPath, [options.bin ?? sourceBin, ...args], {
    cwd: options.cwd,
    env: options.env ?? { ...process.env, LLM_PRISM_TOKENS: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), options.startTimeoutMs ?? 30_000);
    const onData = () => {
      const match = /listening on (http:\/\/[^/\s]+)\/v1\/traces/.exec(stderr);
      if (!match) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve(match[1]!);
    };
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr, exited };
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
