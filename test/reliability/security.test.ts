// Security: with tokens configured, unauthenticated and wrong-token writes are refused (and store
// nothing); hostile service names, attribute keys and values (quotes, backslashes, SQL, `{param}`
// lookalikes, Grafana macros, newlines, NUL, unicode) round-trip byte for byte through ingest →
// otel_traces → llm_calls and through `llm-prism report --service <hostile> --json`, which only
// works if no query splices user input into SQL text.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startIngest, type IngestServer } from '../../packages/ingest/src/index.ts';
import { jsonRequest, jsonSpan } from '../../packages/ingest/test/requests.ts';
import { sdkSpans } from './bad-inputs.ts';
import { otlpMessage, post } from './http-post.ts';
import { report } from './tally.ts';

const TOKENS = ['s3cret-token-A', 'second-token-B'];
const HOSTILE = [
  `'; DROP TABLE otel.otel_traces; --`,
  `it's \\' "quoted" \`back\` ''`,
  `back\\slash\\ and \\\\ double`,
  `{service:String}`,
  `{p:Identifier} {from:Int64} {{x}}`,
  `$__timeFilter(Timestamp) $__conditionalAll(1, $service)`,
  `line1\nline2\r\n\ttab`,
  `nul\u0000byte`,
  `ünïcødé 🚀 \u202e rtl \uFEFF bom 漢字`,
  `) OR 1=1 UNION SELECT * FROM system.users --`,
  `\\N NULL null`,
  `%s %d %% \${x}`,
];
// A few go through the CLI (a process each); all of them go through ingest and the tables.
const REPORTED = [0, 1, 3, 6]; // not the NUL one: argv cannot carry it

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const sloConfig = fileURLToPath(new URL('../../packages/demo/llm-prism.slo.yaml', import.meta.url));
let dataDir: string;
let storage: Storage | undefined;
let server: IngestServer | undefined;
beforeAll(async () => {
  dataDir = await tempDataDir();
  storage = await openStorage({ dataDir });
  server = await startIngest({ port: 0, host: '127.0.0.1', storage, tokens: TOKENS, log: () => {} });
});
afterAll(async () => {
  await server?.close();
  await storage?.close();
});

const stored = async (service: string) => {
  const result = await storage!.client.query({
    query: `SELECT count() AS n FROM ${storage!.database}.otel_traces WHERE ServiceName = {s:String}`,
    query_params: { s: service },
    format: 'JSONEachRow',
  });
  return Number((await result.json<{ n: number }>())[0]?.n);
};

test('writes without a valid bearer token are refused and store nothing', async () => {
  const body = JSON.stringify(jsonRequest([jsonSpan()], 'sec-refused'));
  const attempts: [string, Record<string, string>][] = [
    ['no Authorization', {}],
    ['wrong token', { authorization: 'Bearer not-the-token' }],
    ['token prefix', { authorization: `Bearer ${TOKENS[0]!.slice(0, -1)}` }],
    ['token with suffix', { authorization: `Bearer ${TOKENS[0]}x` }],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['basic scheme', { authorization: `Basic ${Buffer.from(`user:${TOKENS[0]}`).toString('base64')}` }],
    ['token without scheme', { authorization: TOKENS[0]! }],
    ['two tokens', { authorization: `Bearer ${TOKENS[0]} ${TOKENS[1]}` }],
  ];
  const refused: Record<string, string> = {};
  for (const [name, headers] of attempts) {
    const res = await post(`${server!.url}/v1/traces`, { 'content-type': 'application/json', ...headers }, Buffer.from(body));
    expect(res.status, name).toBe(401);
    refused[name] = otlpMessage(res).message;
    expect(refused[name], name).toMatch(/bearer token|Authorization header/);
  }
  // Protobuf requests get a protobuf google.rpc.Status.
  const pb = await post(`${server!.url}/v1/traces`, { 'content-type': 'application/x-protobuf' }, new Uint8Array());
  expect(pb.status).toBe(401);
  expect(otlpMessage(pb).message).toBe('missing bearer token: send Authorization: Bearer <token>');

  // The official exporter: refused without the header, accepted with either token.
  const exportWith = async (headers: Record<string, string>, service: string) => {
    const exporter = new OTLPTraceExporter({ url: `${server!.url}/v1/traces`, headers });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(sdkSpans(service), resolve));
    await exporter.shutdown();
    return result.code;
  };
  expect(await exportWith({}, 'sec-refused')).toBe(ExportResultCode.FAILED);
  expect(await exportWith({ authorization: 'Bearer wrong' }, 'sec-refused')).toBe(ExportResultCode.FAILED);
  expect(await exportWith({ authorization: `Bearer ${TOKENS[0]}` }, 'sec-accepted-a')).toBe(ExportResultCode.SUCCESS);
  expect(await exportWith({ authorization: `Bearer ${TOKENS[1]}` }, 'sec-accepted-b')).toBe(ExportResultCode.SUCCESS);

  expect((await fetch(`${server!.url}/healthz`)).status).toBe(200);
  const storedRefused = await stored('sec-refused');
  report('security-auth', { refusedAttempts: attempts.length + 3, storedFromRefused: storedRefused, accepted: 2 });
  expect(storedRefused).toBe(0);
  expect(await stored('sec-accepted-a')).toBe(2);
  expect(await stored('sec-accepted-b')).toBe(2);
});

test('hostile names and values round-trip through ingest, otel_traces, llm_calls and llm-prism report', async () => {
  const spans = HOSTILE.map((value) => {
    const attributes = [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
      { key: 'gen_ai.request.model', value: { stringValue: value } },
      { key: 'gen_ai.conversation.id', value: { stringValue: value } },
      { key: 'gen_ai.request.stream', value: { boolValue: true } },
      { key: 'llm.route', value: { stringValue: value } },
      { key: 'llm.ttft_ms', value: { doubleValue: 120 } },
      { key: value, value: { arrayValue: { values: [{ stringValue: value }] } } },
    ];
    return { value, span: jsonSpan({ name: `chat ${value}`, kind: 3, attributes }) };
  });
  for (const { value, span } of spans) {
    const res = await post(
      `${server!.url}/v1/traces`,
      { 'content-type': 'application/json', authorization: `Bearer ${TOKENS[0]}` },
      Buffer.from(JSON.stringify(jsonRequest([span], value))),
    );
    expect(res.status, value).toBe(200);
  }

  const db = storage!.database;
  const mismatches: string[] = [];
  for (const { value, span } of spans) {
    const traces = await storage!.client.query({
      query: `SELECT ServiceName, SpanName, SpanAttributes FROM ${db}.otel_traces WHERE SpanId = {id:String}`,
      query_params: { id: span.spanId },
      format: 'JSONEachRow',
    });
    const [row] = await traces.json<{ ServiceName: string; SpanName: string; SpanAttributes: Record<string, string> }>();
    const calls = await storage!.client.query({
      query: `SELECT ServiceName, RequestModel, ConversationId, Route FROM ${db}.llm_calls WHERE SpanId = {id:String}`,
      query_params: { id: span.spanId },
      format: 'JSONEachRow',
    });
    const [call] = await calls.json<Record<string, string>>();
    const want = { ServiceName: value, RequestModel: value, ConversationId: value, Route: value };
    try {
      expect(row?.ServiceName).toBe(value);
      expect(row?.SpanName).toBe(`chat ${value}`);
      expect(row?.SpanAttributes['gen_ai.request.model']).toBe(value);
      expect(row?.SpanAttributes[value]).toBe(JSON.stringify([value]).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
      expect(call).toEqual(want);
    } catch (err) {
      mismatches.push(`${JSON.stringify(value)}: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  // otel_traces is still there and holds every hostile span.
  expect(await stored(HOSTILE[0]!)).toBe(1);

  await server!.close();
  server = undefined;
  await storage!.close();
  storage = undefined;

  const reported: Record<string, number> = {};
  for (const i of REPORTED) {
    const service = HOSTILE[i]!;
    const child = spawn(process.execPath, [bin, 'report', '--service', service, '--json', '--since', '1d', '-c', sloConfig, '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = await once(child, 'exit');
    expect(code, `${JSON.stringify(service)}: ${err}`).toBe(0);
    const data = JSON.parse(out) as { scope: { service?: string }; slowest: { service: string; model: string; span_id: string }[] };
    expect(data.scope.service).toBe(service);
    expect(data.slowest).toEqual([expect.objectContaining({ service, model: service, span_id: spans[i]!.span.spanId })]);
    reported[service] = data.slowest.length;
  }
  report('security-hostile', { hostileValues: HOSTILE.length, roundTripMismatches: mismatches.length, reportsRun: REPORTED.length });
  expect(mismatches).toEqual([]);
}, 180_000); // four CLI processes, each opening chDB
