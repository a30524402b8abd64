// `llm-prism migrate`: applies pending schema migrations and the configured retention.
import { Command } from 'commander';
import { migrations, MIN_ROLLUP_RETENTION_DAYS, schemaDdl, type StorageOptions } from '@llm-prism/storage';
import { describeStorage, openStorageFor, type StorageCliOptions, storageOptions, storageOptionsFrom } from '../storage-options.ts';

interface MigrateOptions extends StorageCliOptions {
  printDdl?: boolean;
}

/** The complete DDL for these options, for a DBA to review or run by hand (no connection made). */
function printDdl(options: StorageOptions): void {
  const ctx = { database: options.database!, cluster: options.cluster, retentionDays: options.retentionDays };
  console.log(schemaDdl(ctx).map((statement) => `${statement};`).join('\n\n'));
}

async function migrate(command: Command, options: StorageOptions): Promise<void> {
  const storage = await openStorageFor(command, { ...options, migrate: false });
  try {
    const applied = await storage.migrate().catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      return command.error(`llm-prism migrate: cannot migrate ${describeStorage(options)}: ${message}`);
    });
    console.log(`schema in ${describeStorage(options)}`);
    for (const migration of migrations) {
      if (applied.includes(migration.version)) console.log(`applied ${migration.version}: ${migration.name}`);
    }
    if (applied.length === 0) console.log(`up to date at version ${migrations.at(-1)!.version}`);
    if (options.retentionDays !== undefined) {
      const rollups = Math.max(options.retentionDays, MIN_ROLLUP_RETENTION_DAYS);
      console.log(`retention: ${options.retentionDays} days for spans, LLM calls and the minute rollups, ${rollups} days for the SLO and hourly rollups`);
    }
  } finally {
    await storage.close();
  }
}

export function registerMigrate(program: Command): void {
  const command = new Command('migrate')
    .description('create or upgrade the ClickHouse schema (otel_traces, llm_calls, SLO rollups); safe to run repeatedly')
    .option('--print-ddl', 'print the DDL these options produce (cluster variant included) without connecting')
    .action(async (opts: MigrateOptions) => {
      const options = storageOptionsFrom(opts);
      if (opts.printDdl === true) printDdl(options);
      else await migrate(command, options);
    });
  program.addCommand(storageOptions(command));
}
