// `llm-prism serve`: the OTLP/HTTP receiver, storing spans in embedded chDB or ClickHouse.
import { Command, Option } from 'commander';
import { listenAddress, startIngest } from '@llm-prism/ingest';
import type { InsertQuorum } from '@llm-prism/storage';
import { describeStorage, openStorageFor, type StorageCliOptions, storageOptions, storageOptionsFrom } from '../storage-options.ts';
import { nonEmpty, wholeNumber } from '../arguments.ts';

interface ServeOptions extends StorageCliOptions {
  port: number;
  host?: string;
  token?: string[];
  maxBodyBytes?: number;
  fsync?: boolean;
  insertQuorum?: InsertQuorum;
}

function quorum(value: string): InsertQuorum {
  if (value === 'auto') return value;
  return wholeNumber(1, Number.MAX_SAFE_INTEGER, "a positive number of replicas or 'auto'")(value);
}

/** Repeated --token values, as LLM_PRISM_TOKENS is read: trimmed, and an empty one (an unset `$TOKEN`) refused. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), nonEmpty('a token')(value).trim()];

async function serve(command: Command, options: ServeOptions): Promise<void> {
  const storageOpts = storageOptionsFrom(options);
  if (options.fsync !== undefined) storageOpts.fsync = options.fsync;
  if (options.insertQuorum !== undefined) storageOpts.insertQuorum = options.insertQuorum;
  // A refused address is said before the data directory is created or opened.
  const { host, tokens } = listenAddress({ host: options.host, tokens: options.token }); // tokens undefined: LLM_PRISM_TOKENS
  console.error(`llm-prism serve: storing spans in ${describeStorage(storageOpts)}`);
  // Opened here, as every command opens it: a data directory another process holds is said plainly.
  const storage = await openStorageFor(command, storageOpts);
  const server = await startIngest({
    port: options.port,
    host,
    storage,
    tokens,
    maxBodyBytes: options.maxBodyBytes,
  }).catch(async (error: unknown) => {
    await storage.close();
    throw error;
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`llm-prism serve: ${signal}: finishing queued inserts, then closing storage`);
    server
      .close()
      .then(() => storage.close())
      .then(
        () => {
          console.error('llm-prism serve: stopped');
          process.exit(0);
        },
        (error: unknown) => {
          console.error('llm-prism serve: shutdown failed:', error);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

export function registerServe(program: Command): void {
  const command = new Command('serve')
    .description(
      'receive OpenTelemetry traces over OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip) and store them in ClickHouse',
    )
    .addOption(new Option('--port <port>', 'port to listen on (OTLP/HTTP standard: 4318; 0 picks a free one)').default(4318).argParser(wholeNumber(0, 65_535, 'a port number from 0 to 65535')))
    .addOption(
      new Option('--host <address>', 'address to listen on (default 0.0.0.0 with tokens, 127.0.0.1 without; without tokens only loopback is allowed)'),
    )
    .addOption(
      new Option('--token <token>', 'accept exporters sending "Authorization: Bearer <token>"; repeat for several (default: LLM_PRISM_TOKENS, comma-separated)')
        .argParser(collect),
    )
    .addOption(
      new Option('--max-body-bytes <bytes>', 'largest request body accepted (default 16 MiB; 4 times that after gunzip)').argParser(
        wholeNumber(1, Number.MAX_SAFE_INTEGER, 'a positive number of bytes'),
      ),
    )
    .addOption(
      new Option(
        '--fsync',
        'fsync every insert before acknowledging it, so acknowledged spans survive power loss (costs about 35 ms per insert; kept in the tables\' settings until --no-fsync)',
      ),
    )
    .addOption(new Option('--no-fsync', 'switch fsync on insert off again'))
    .addOption(
      new Option('--insert-quorum <replicas>', "with a cluster: acknowledge an insert only once this many replicas of its shard have it ('auto': a majority)").argParser(
        quorum,
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  # Embedded: spans go to ./.llm-prism/data (chDB); exporters on this machine only.
  llm-prism serve

  # Accept exporters from other machines, with a token they must send.
  llm-prism serve --token "$(openssl rand -hex 24)"

  # Store in a ClickHouse server, or a cluster (password from the environment).
  LLM_PRISM_CLICKHOUSE_PASSWORD=... llm-prism serve --clickhouse-url http://clickhouse:8123 --user prism --token s3cret
  llm-prism serve --clickhouse-url http://clickhouse:8123 --cluster prism --retention-days 30 --token s3cret

  # Durable acknowledgements: fsync on the embedded store, two replicas per insert on a cluster.
  llm-prism serve --fsync
  llm-prism serve --clickhouse-url http://clickhouse:8123 --cluster prism --insert-quorum 2 --token s3cret

Point your application's OTLP exporter here:
  OTEL_EXPORTER_OTLP_ENDPOINT=http://<host>:4318
  OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <token>"

Endpoints: POST /v1/traces, GET /healthz (process up), GET /readyz (storage reachable), GET /metrics (Prometheus).
Stops on SIGINT/SIGTERM after storing what it has accepted.`,
    )
    .action(async (opts: ServeOptions) => {
      await serve(command, opts).catch((error: unknown) => command.error(`llm-prism serve: ${error instanceof Error ? error.message : String(error)}`));
    });
  program.addCommand(storageOptions(command));
}
