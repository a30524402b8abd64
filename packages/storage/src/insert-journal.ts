// Crash recovery of an insert's cascade (docs/clickhouse.md, "Crashes"). ClickHouse writes an insert
// into otel_traces and then into each view's table, every one its own part: a process killed in
// between leaves the batch in some tables and not in others, and the spans the exporters re-send are
// then left out as already stored (insert-dedup.ts), so the tables the kill cut off never count
// them. So every insert's body is written here under its deduplication token before it runs and
// removed once it has settled; the next migrate() replays what is left with the same token, and
// ClickHouse's insert deduplication (insert-deduplication.ts) writes it into exactly the tables
// that missed it.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface JournaledInsert {
  token: string;
  body: Buffer;
}

export interface InsertJournal {
  readonly dir: string;
  /** Writes `body` under a new token (fsynced with `fsync`) and returns the token: run the insert after this. */
  begin(body: Buffer): Promise<string>;
  /** The insert has settled, stored or refused: there is nothing to replay. */
  end(token: string): Promise<void>;
  /** The inserts begun and never ended, oldest first. */
  pending(): Promise<JournaledInsert[]>;
}

const SUFFIX = '.jsonl';
const PARTIAL = '.partial';

async function syncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A journal in `dir` (created on first use). */
export function insertJournal(dir: string, fsync: boolean): InsertJournal {
  let created: Promise<unknown> | undefined;
  return {
    dir,
    async begin(body) {
      await (created ??= mkdir(dir, { recursive: true }));
      // The time first, so names sort oldest first.
      const token = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}`;
      const file = join(dir, token + SUFFIX);
      const handle = await open(file + PARTIAL, 'w');
      try {
        await handle.writeFile(body);
        if (fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      // Only a whole body gets the name pending() reads.
      await rename(file + PARTIAL, file);
      if (fsync) await syncPath(dir, 'r');
      return token;
    },
    end: (token) => rm(join(dir, token + SUFFIX), { force: true }),
    async pending() {
      const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
      // A partial body was never inserted: its insert starts only after the rename.
      for (const name of names.filter((n) => n.endsWith(PARTIAL))) await rm(join(dir, name), { force: true });
      const tokens = names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length)).sort();
      return Promise.all(tokens.map(async (token) => ({ token, body: await readFile(join(dir, token + SUFFIX)) })));
    },
  };
}
