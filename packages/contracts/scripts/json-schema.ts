// Builds the JSON Schema files for every HTTP body, NATS message and event, plus catalogue.json.
// Pure: returns file name → content, so the writer script and the drift test share it.
import { z } from 'zod';
import * as contracts from '../src/index.js';

const toJson = (schema: z.ZodType, io: 'input' | 'output'): string => JSON.stringify(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), null, 2) + '\n';

/** HTTP bodies by their OpenAPI component name. */
export const HTTP_SCHEMAS: Record<string, z.ZodType> = {
  CreateContainerBody: contracts.CreateContainerBodySchema,
  ExecBody: contracts.ExecBodySchema,
  Container: contracts.ContainerViewSchema,
  CreatedContainer: contracts.CreateContainerReplySchema,
  ContainerList: contracts.ContainerListSchema,
  DeletedContainer: contracts.DeleteContainerReplySchema,
  ContainerUsage: contracts.UsageSchema,
  ExecResult: contracts.ExecResultSchema,
  PoolList: contracts.PoolListSchema,
  Health: contracts.HealthSchema,
  ErrorBody: contracts.ErrorBodySchema,
  ExecStreamEvent: contracts.ExecStreamEventSchema,
  Ticket: contracts.TicketReplySchema,
  LogEvent: contracts.LogEventSchema,
  FileEntry: contracts.FileEntrySchema,
  FileList: contracts.FileListSchema,
  FileWatchEvent: contracts.FileWatchEventSchema,
  CreatedPreview: contracts.CreatedPreviewSchema,
  TemplateInfo: contracts.TemplateInfoSchema,
  TemplateList: contracts.TemplateListSchema,
  TemplateDeleted: contracts.TemplateDeletedSchema,
  TemplateBuildEvent: contracts.TemplateBuildEventSchema,
  VolumeList: contracts.VolumeListSchema,
};

/** Every file of `packages/contracts/schemas/`, by name, with its exact content. */
export function buildSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  // HTTP bodies the gateway accepts are inputs; everything it returns is an output.
  for (const [name, schema] of Object.entries(HTTP_SCHEMAS)) {
    const io = name === 'CreateContainerBody' || name === 'ExecBody' ? 'input' : 'output';
    files.set(`http.${name}.schema.json`, toJson(schema, io));
  }
  const requests: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(contracts.SUBJECTS)) {
    files.set(`nats.${entry.subject}.request.schema.json`, toJson(entry.request, 'input'));
    files.set(`nats.${entry.subject}.reply.schema.json`, toJson(entry.reply, 'output'));
    requests[key] = {
      subject: entry.subject,
      servedBy: entry.servedBy,
      calledBy: entry.calledBy,
      description: entry.description,
      request: `nats.${entry.subject}.request.schema.json`,
      reply: `nats.${entry.subject}.reply.schema.json`,
    };
  }
  files.set('nats.berth.evt.container.event.schema.json', toJson(contracts.EVENTS.container.schema, 'output'));
  files.set('nats.berth.evt.usage.llm.schema.json', toJson(contracts.EVENTS.usage.schema, 'output'));
  files.set('nats.berth.stream.ctl.schema.json', toJson(contracts.STREAMS.control.schema, 'output'));
  files.set('nats.berth.stream.out.schema.json', toJson(contracts.STREAMS.out.schema, 'output'));
  files.set('nats.berth.logs.batch.schema.json', toJson(contracts.LOGS.schema, 'output'));
  files.set('nats.berth.build.image.schema.json', toJson(contracts.BUILDS.schema, 'output'));
  const catalogue = {
    version: contracts.CATALOGUE_VERSION,
    requests,
    events: {
      stream: contracts.EVENTS.stream,
      managedBy: contracts.EVENTS.managedBy,
      subjects: contracts.EVENTS.subjects,
      container: {
        subject: contracts.EVENTS.container.pattern,
        publishers: contracts.EVENTS.container.publishers,
        subscribers: contracts.EVENTS.container.subscribers,
        schema: 'nats.berth.evt.container.event.schema.json',
      },
      usage: {
        subject: contracts.EVENTS.usage.pattern,
        publishers: contracts.EVENTS.usage.publishers,
        subscribers: contracts.EVENTS.usage.subscribers,
        schema: 'nats.berth.evt.usage.llm.schema.json',
      },
    },
    streams: {
      control: { subject: contracts.STREAMS.control.pattern, schema: 'nats.berth.stream.ctl.schema.json' },
      out: { subject: '<inbox given in the open request>', schema: 'nats.berth.stream.out.schema.json' },
    },
    builds: {
      stream: contracts.BUILDS.stream,
      retention: 'workqueue',
      managedBy: contracts.BUILDS.managedBy,
      subjects: contracts.BUILDS.subjects,
      request: {
        subject: contracts.BUILDS.pattern,
        publishers: contracts.BUILDS.publishers,
        consumers: contracts.BUILDS.consumers,
        schema: 'nats.berth.build.image.schema.json',
      },
    },
    logs: {
      stream: contracts.LOGS.stream,
      subjects: contracts.LOGS.subjects,
      batch: { subject: contracts.LOGS.pattern, schema: 'nats.berth.logs.batch.schema.json' },
    },
  };
  files.set('catalogue.json', JSON.stringify(catalogue, null, 2) + '\n');
  return files;
}
