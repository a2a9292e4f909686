// Builds berth's AsyncAPI 3 document from the contracts: the events other systems consume (EVENTS
// stream) and container output (LOGS stream). Pure, so the writer script and the drift test share it.
import { z } from 'zod';
import * as contracts from '../src/index.js';

type Json = Record<string, unknown>;

/** Draft-07 JSON Schema (what AsyncAPI schemas extend), every reference inlined. */
function schemaOf(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'output', target: 'draft-7', metadata: z.registry(), unrepresentable: 'any' }) as Json;
  return rest;
}

const param = (description: string, values?: readonly string[]) => ({ description, ...(values && { enum: [...values] }) });
const workspaceId = param('The workspace id (ws_ and 16 hex digits).');

interface ChannelSpec {
  address: string;
  /** The wildcard form, as in the contracts (every {parameter} is `*`). */
  pattern: string;
  title: string;
  description: string;
  stream: string;
  parameters: Record<string, Json>;
  message: string;
  schema: z.ZodType;
  summary: string;
  headers?: Json;
}

const CHANNELS: Record<string, ChannelSpec> = {
  containerEvent: {
    address: 'berth.evt.container.{workspaceId}.{kind}',
    pattern: contracts.EVENTS.container.pattern,
    title: 'Workspace lifecycle',
    description: `A workspace was created, became warm, was claimed, was removed, or failed. Stored in the JetStream stream ${contracts.EVENTS.stream} (7 days); the stream deduplicates republished events by Nats-Msg-Id \`<id>.<kind>\`.`,
    stream: contracts.EVENTS.stream,
    parameters: { workspaceId, kind: param('What happened.', contracts.ContainerEventKindSchema.options) },
    message: 'ContainerEvent',
    schema: contracts.EVENTS.container.schema,
    summary: 'One lifecycle change of one workspace.',
  },
  setupStatus: {
    address: 'berth.evt.setup.{workspaceId}.status',
    pattern: contracts.EVENTS.setup.pattern,
    title: 'Repository setup progress',
    description: `Each phase change of a workspace's repository setup (${contracts.SETUP_PHASES.join(', ')}). \`seq\` grows by one per status of a workspace: a status with a seq already seen is a duplicate. Carries the workspace's \`owner\`. Stored in ${contracts.EVENTS.stream}.`,
    stream: contracts.EVENTS.stream,
    parameters: { workspaceId },
    message: 'SetupEvent',
    schema: contracts.EVENTS.setup.schema,
    summary: 'The setup state of one workspace after a phase change.',
    headers: { type: 'object', properties: { 'Nats-Msg-Id': { type: 'string', description: '`setup-<workspaceId>-<seq>`' } } },
  },
  llmUsage: {
    address: 'berth.evt.usage.{workspaceId}.llm',
    pattern: contracts.EVENTS.usage.pattern,
    title: 'LLM usage',
    description: `One LLM call a workspace made through egress (provider, model, tokens and spend from the provider's own usage report), published after the answer ended. Stored in ${contracts.EVENTS.stream}.`,
    stream: contracts.EVENTS.stream,
    parameters: { workspaceId },
    message: 'LlmUsageEvent',
    schema: contracts.EVENTS.usage.schema,
    summary: 'One proxied LLM call and what it used.',
  },
  logLine: {
    address: 'berth.logs.{workspaceId}.{stream}',
    pattern: contracts.LOGS.pattern,
    title: 'Container output',
    description: `What a workspace's main process writes, in batches: one message holds consecutive pieces of one stream (\`lines\`, each a line or a piece of a long line) and how many pieces came before it (\`before\`). Published by log-streamer into the JetStream stream ${contracts.LOGS.stream} (bounded by age and size). (ts, n) orders and deduplicates pieces; a message stored by an older berth is a bare LogLine (a batch of one).`,
    stream: contracts.LOGS.stream,
    parameters: { workspaceId, stream: param('Which output.', contracts.LogStreamNameSchema.options) },
    message: 'LogBatch',
    schema: contracts.LOGS.schema,
    summary: 'Consecutive pieces of one stream of container output.',
  },
};

export function buildAsyncApi(): Json {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  const schemas: Json = {};
  for (const [key, c] of Object.entries(CHANNELS)) {
    schemas[c.message] = schemaOf(c.schema);
    messages[c.message] = {
      name: c.message,
      title: c.title,
      summary: c.summary,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${c.message}` },
      ...(c.headers && { headers: c.headers }),
    };
    channels[key] = {
      address: c.address,
      title: c.title,
      description: c.description,
      parameters: c.parameters,
      messages: { [c.message]: { $ref: `#/components/messages/${c.message}` } },
      bindings: { nats: { bindingVersion: '0.1.0' } },
      'x-jetstream-stream': c.stream,
      'x-subject-pattern': c.pattern,
    };
    // The document describes berth, which sends these; subscribers consume them from the stream.
    operations[`send${c.message}`] = {
      action: 'send',
      title: `berth publishes: ${c.title.toLowerCase()}`,
      summary: `Into the ${c.stream} stream; follow with a durable JetStream consumer filtered on ${c.pattern} to resume where you stopped.`,
      channel: { $ref: `#/channels/${key}` },
      messages: [{ $ref: `#/channels/${key}/messages/${c.message}` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'berth events',
      version: contracts.CATALOGUE_VERSION,
      description:
        'What berth publishes for other systems, on NATS JetStream. Generated from packages/contracts by `pnpm asyncapi`; see docs/events.md and examples/subscriber.ts.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:4222',
        protocol: 'nats',
        description:
          'The NATS server of a berth deployment (scripts/up starts one on this address). Each consumer needs a NATS user allowed to read the streams.',
      },
    },
    channels,
    operations,
    components: { messages, schemas },
  };
}

export const asyncApiText = (): string => `${JSON.stringify(buildAsyncApi(), null, 2)}\n`;
export const ASYNCAPI_CHANNELS = CHANNELS;
