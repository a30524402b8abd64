/**
 * What a user gets: every package built, packed with `npm pack` and installed from the tarballs,
 * with SDKs from the registry, into a project outside this repository. The install is cached by
 * the tarballs' hash (npm pack is reproducible), so only a change to a package reinstalls.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const PREFIX = 'llm-prism-installed-';

/** SDK majors installed beside the packages: the app directory's own `openai`, and a nested one. */
export const OPENAI_MAJORS = { app: 'openai@^7', openai4: 'openai@^4.104.0' } as const;
/** The newest Node 22 and the floor of `engines` (before Node had synchronous loader hooks). */
export const NODE22 = { '22': 'node@22', '22.15': 'node@22.15.1' } as const;
const RUNTIME_PREFIX = 'llm-prism-runtime-';

export type NodeVersion = keyof typeof NODE22 | '24';

export interface Installed {
  /** The user's project: `node_modules/@llm-prism/*` from the tarballs, `openai` 7. */
  dir: string;
  /** A sub-project with its own `node_modules/openai` 4 (the packages resolve from the parent). */
  openai4Dir: string;
  /** Node binaries to run the apps with. */
  node: Record<NodeVersion, string>;
  /** Environment without the repo's source condition or npm's script variables. */
  env: NodeJS.ProcessEnv;
}

/** The environment of a user's shell: nothing from this repo's npm scripts leaks into the install. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('npm_') || key.startsWith('VITEST') || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: userEnv(), timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function project(dir: string, dependencies: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  // npm 11 runs only the install scripts a project allows: chdb's and node's set up their binaries.
  const pkg = { name: 'llm-prism-user-app', private: true, allowScripts: { chdb: true, node: true, protobufjs: true } };
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  await npm(['install', '--no-audit', '--no-fund', '--loglevel=error', ...dependencies], dir);
}

/**
 * A Node binary from the `node` npm package (`node@22` …), installed once per spec under the OS
 * temp directory. Test files run in parallel: the install goes to a private directory that is
 * renamed into place, so a concurrent caller either sees a complete install or makes its own.
 */
export async function nodeBinary(spec: string): Promise<string> {
  const dir = join(tmpdir(), `${RUNTIME_PREFIX}${spec.replace(/[^\w.@-]/g, '_')}`);
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(bin)) return bin;
  const staging = await mkdtemp(join(tmpdir(), `${RUNTIME_PREFIX}staging-`));
  await project(staging, [spec]);
  await rename(staging, dir).catch(async (err: NodeJS.ErrnoException) => {
    // Another test file finished the same install first: use that one.
    if (!existsSync(bin)) throw err;
    await rm(staging, { recursive: true, force: true });
  });
  return bin;
}

/** Builds, packs and installs (or reuses the install of identical tarballs). */
export async function installPackages(): Promise<Installed> {
  await npm(['run', 'build'], repoRoot);
  const packDir = join(tmpdir(), `${PREFIX}tarballs`);
  await rm(packDir, { recursive: true, force: true });
  await mkdir(packDir, { recursive: true });
  const workspaces = (await readdir(join(repoRoot, 'packages'))).flatMap((name) => ['--workspace', `packages/${name}`]);
  const packed = JSON.parse(await npm(['pack', ...workspaces, '--json', '--pack-destination', packDir], repoRoot)) as Array<{ filename: string }>;
  const tarballs = packed.map((p) => join(packDir, p.filename)).sort();

  const hash = createHash('sha256').update(JSON.stringify(OPENAI_MAJORS));
  for (const tarball of tarballs) hash.update(await readFile(tarball));
  const key = hash.digest('hex').slice(0, 16);
  const root = join(tmpdir(), `${PREFIX}${key}`);
  const installed: Installed = {
    dir: join(root, 'app'),
    openai4Dir: join(root, 'app', 'openai4'),
    node: { '22': await nodeBinary(NODE22['22']), '22.15': await nodeBinary(NODE22['22.15']), '24': process.execPath },
    env: userEnv(),
  };
  if (existsSync(join(root, 'ready'))) return installed;

  // Only the current install is kept (each is ~1 GB with chDB's library).
  for (const entry of await readdir(tmpdir())) {
    if (entry.startsWith(PREFIX) && entry !== `${PREFIX}tarballs`) await rm(join(tmpdir(), entry), { recursive: true, force: true });
  }
  const tarballDir = join(root, 'tarballs');
  await mkdir(tarballDir, { recursive: true });
  const copies: string[] = [];
  for (const tarball of tarballs) {
    const copy = join(tarballDir, tarball.slice(packDir.length + 1));
    await writeFile(copy, await readFile(tarball));
    copies.push(copy);
  }
  await project(installed.dir, [...copies, OPENAI_MAJORS.app]);
  await project(installed.openai4Dir, [OPENAI_MAJORS.openai4]);
  await writeFile(join(root, 'ready'), new Date().toISOString());
  return installed;
}
