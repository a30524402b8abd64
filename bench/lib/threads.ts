// CPU time per thread of this process, from Linux's /proc: what process.cpuUsage() sums over all
// threads and no JavaScript profile of the main thread shows (V8's compiler and GC workers, worker
// threads, libuv's pool, an embedded database's threads).
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadCpu {
  tid: number;
  /** The thread's name (`/proc/…/comm`), e.g. Node's `WorkerThread`. */
  name: string;
  /** CPU µs so far (schedstat: nanoseconds on a CPU). */
  micros: number;
}

/** Every live thread's CPU so far; undefined where /proc is not there. */
export function threadsCpu(): ThreadCpu[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const threads: ThreadCpu[] = [];
  for (const tid of tids) {
    try {
      const micros = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
      threads.push({ tid: Number(tid), name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), micros });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}
