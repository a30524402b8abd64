// Child processes that talk over Node's IPC channel: one request, one reply, in order.
import { fork } from 'node:child_process';

export interface Child {
  /** Sends a message and resolves with the child's next message. */
  ask<T>(message: object): Promise<T>;
  /** Resolves with the child's next message. */
  next<T>(): Promise<T>;
  close(): Promise<void>;
}

export function spawnChild(script: string, args: string[] = [], execArgv: string[] = []): Child {
  const proc = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: unknown[] = [];
  const waiting: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  proc.on('message', (m) => {
    const w = waiting.shift();
    if (w) w.resolve(m);
    else queue.push(m);
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${script} exited (${code ?? signal}) before answering`));
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      if (queue.length > 0) resolve(queue.shift() as T);
      else if (proc.exitCode !== null) reject(new Error(`${script} has exited`));
      else waiting.push({ resolve: resolve as (m: unknown) => void, reject });
    });
  return {
    next,
    async ask<T>(message: object) {
      proc.send(message);
      const reply = await next<T & { error?: string }>();
      if (reply.error !== undefined) throw new Error(`${script}: ${reply.error}`);
      return reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.disconnect();
      }),
  };
}

/** In a child: answers each message from the parent with `handler`'s result; exits when the parent disconnects. */
export function serveParent(handler: (message: Record<string, unknown>) => Promise<object>, onDisconnect: () => Promise<void> = async () => {}): void {
  let chain = Promise.resolve();
  process.on('message', (m) => {
    chain = chain.then(async () => {
      try {
        process.send?.(await handler(m as Record<string, unknown>));
      } catch (err) {
        process.send?.({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
      }
    });
  });
  process.on('disconnect', () => {
    void chain.then(onDisconnect).then(() => process.exit(0));
  });
}
