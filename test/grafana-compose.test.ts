// docker/ cannot run here (no Docker engine): check that the compose file and the Dockerfile point
// at things that exist, that images are pinned, and that Grafana gets the provisioning it needs.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLICKHOUSE_PLUGIN_VERSION } from '@llm-prism/grafana';

const ROOT = new URL('..', import.meta.url).pathname;
const DOCKER = join(ROOT, 'docker');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
}

async function compose(): Promise<{ services: Record<string, Service>; volumes?: Record<string, unknown> }> {
  return parse(await readFile(join(DOCKER, 'docker-compose.yml'), 'utf8'), { merge: true });
}

/** `major.minor` of an image tag like `12.2.0` or `25.8`. */
function version(image: string): number[] {
  const tag = image.split(':')[1] ?? '';
  return tag.split(/[.-]/).slice(0, 2).map(Number);
}

describe('docker/docker-compose.yml', () => {
  it('runs ClickHouse, ingest, Grafana and the demo workload', async () => {
    const { services } = await compose();
    expect(Object.keys(services).sort()).toEqual(['clickhouse', 'demo', 'grafana', 'ingest']);
  });

  it('pins every pulled image to a release, and builds the ingest image from docker/Dockerfile', async () => {
    const { services } = await compose();
    const built = new Set(Object.values(services).filter((s) => s.build !== undefined).map((s) => s.image));
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toBeDefined();
      if (built.has(s.image)) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?$/);
    }
    expect(version(services.clickhouse?.image ?? '')).toEqual([25, 8]); // an LTS line (x.3 / x.8)
    const [major, minor] = version(services.grafana?.image ?? '') as [number, number];
    expect(major * 100 + minor).toBeGreaterThanOrEqual(1106);
    const build = services.ingest?.build;
    expect(build).toBeDefined();
    expect(existsSync(join(resolve(DOCKER, build?.context ?? ''), build?.dockerfile ?? ''))).toBe(true);
    expect(services.demo?.image).toBe(services.ingest?.image);
  });

  it('installs the ClickHouse plugin >= 4.15 and provisions Grafana from grafana/', async () => {
    const { services } = await compose();
    const grafana = services.grafana as Service;
    const plugin = /grafana-clickhouse-datasource@(\d+)\.(\d+)\.\d+/.exec(grafana.environment?.GF_PLUGINS_PREINSTALL_SYNC ?? '');
    expect(plugin).not.toBeNull();
    expect(Number(plugin?.[1]) * 100 + Number(plugin?.[2])).toBeGreaterThanOrEqual(415);
    // The generated queries say which plugin version they were written for: the one installed.
    expect(plugin?.[0]).toBe(`grafana-clickhouse-datasource@${CLICKHOUSE_PLUGIN_VERSION}`);
    const mounts = Object.fromEntries((grafana.volumes ?? []).map((v) => v.split(':')).map(([host, target]) => [target, host]));
    expect(resolve(DOCKER, mounts['/etc/grafana/provisioning'] ?? '')).toBe(join(ROOT, 'grafana/provisioning'));
    expect(resolve(DOCKER, mounts['/var/lib/grafana/dashboards'] ?? '')).toBe(join(ROOT, 'grafana/dashboards'));
    // The datasource file reads its password from this variable.
    const datasource = await readFile(join(ROOT, 'grafana/provisioning/datasources/clickhouse.yaml'), 'utf8');
    expect(datasource).toContain('${CLICKHOUSE_PASSWORD}');
    expect(grafana.environment?.CLICKHOUSE_PASSWORD).toBe(services.clickhouse?.environment?.CLICKHOUSE_PASSWORD);
    // Every ${VAR} Grafana expands in a provisioning file is set for it (an empty webhook URL fails provisioning).
    for (const dir of ['datasources', 'dashboards', 'alerting']) {
      for (const file of await readdir(join(ROOT, 'grafana/provisioning', dir))) {
        const text = await readFile(join(ROOT, 'grafana/provisioning', dir, file), 'utf8');
        for (const [, name] of text.matchAll(/\$\{(\w+)\}/g)) expect(grafana.environment?.[name as string], `${dir}/${file}: \${${name}}`).toBeTruthy();
      }
    }
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(existsSync(join(ROOT, 'grafana/dashboards', home.replace('/var/lib/grafana/dashboards/', '')))).toBe(true);
  });

  it('binds host paths that exist, named volumes that are declared, and valid ports', async () => {
    const { services, volumes } = await compose();
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [source = ''] = v.split(':');
        if (source.startsWith('.') || source.startsWith('/')) expect(existsSync(resolve(DOCKER, source)), `${name}: ${v}`).toBe(true);
        else expect(Object.keys(volumes ?? {}), `${name}: ${v}`).toContain(source);
      }
      for (const p of s.ports ?? []) {
        const [host, container] = p.split(':').map(Number) as [number, number];
        expect(host, `${name}: ${p}`).toBeGreaterThan(0);
        expect(container).toBeLessThan(65_536);
      }
    }
    expect(services.ingest?.ports).toContain('4318:4318');
    expect(services.grafana?.ports).toContain('3000:3000');
    expect(services.ingest?.command).toEqual(expect.arrayContaining(['serve', '--clickhouse-url', 'http://clickhouse:8123']));
    // The demo sends to the stack's ingest (`demo --endpoint`; plain `demo` would store in its own chDB), with the ingest's token.
    expect(services.demo?.command).toEqual(expect.arrayContaining(['demo', '--endpoint', 'http://ingest:4318']));
    expect(services.demo?.environment?.OTEL_EXPORTER_OTLP_HEADERS).toBe(`Authorization=Bearer ${services.ingest?.environment?.LLM_PRISM_TOKENS}`);
  });
});

describe('docker/Dockerfile', () => {
  it('builds on Node 24 from files that exist in the repo and starts the installed CLI', async () => {
    const dockerfile = DockerfileParser.parse(await readFile(join(DOCKER, 'Dockerfile'), 'utf8'));
    const froms = dockerfile.getFROMs();
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) {
      expect(from.getImageName()).toBe('node');
      expect(from.getImageTag()).toMatch(/^24(\.\d+)*-/);
    }
    const copies = dockerfile.getCOPYs();
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      // `COPY --from=<stage>` copies out of an earlier stage, not the build context.
      if (copy.getFromFlag()) continue;
      const args = copy.getArguments().map((a) => a.getValue());
      for (const source of args.slice(0, -1)) expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
    // The CLI as npm installs it from the tarball: the package's own `bin`.
    const entrypoint = dockerfile.getENTRYPOINTs()[0]?.getArgumentsContent() ?? '';
    const bin = (JSON.parse(entrypoint) as string[])[1] ?? '';
    const cli = JSON.parse(await readFile(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
    expect(bin).toBe(join('node_modules', cli.name, cli.bin['llm-prism']!));
  });
});
