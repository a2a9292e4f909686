// Writes JSON Schema for every HTTP body, NATS message and event into packages/contracts/schemas/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import * as contracts from '../src/index.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
mkdirSync(out, { recursive: true });

const write = (name: string, schema: z.ZodType, io: 'input' | 'output') => {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  writeFileSync(join(out, `${name}.schema.json`), JSON.stringify(json, null, 2) + '\n');
};

const http: Record<string, z.ZodType> = {
  CreateContainerBody: contracts.CreateContainerBodySchema,
  ExecBody: contracts.ExecBodySchema,
  Container: contracts.ContainerViewSchema,
  CreatedContainer: contracts.CreateContainerReplySchema,
  ContainerList: contracts.ContainerListSchema,
  DeletedContainer: contracts.DeleteContainerReplySchema,
  ExecResult: contracts.ExecResultSchema,
  PoolList: contracts.PoolListSchema,
  Health: contracts.HealthSchema,
  ErrorBody: contracts.ErrorBodySchema,
};
for (const [name, schema] of Object.entries(http)) write(`http.${name}`, schema, 'output');

const catalogue: Record<string, unknown> = {};
for (const [key, entry] of Object.entries(contracts.SUBJECTS)) {
  write(`nats.${entry.subject}.request`, entry.request, 'input');
  write(`nats.${entry.subject}.reply`, entry.reply, 'output');
  catalogue[key] = { subject: entry.subject, servedBy: entry.servedBy, description: entry.description };
}
write('nats.berth.evt.container.event', contracts.EVENTS.container.schema, 'output');
writeFileSync(
  join(out, 'catalogue.json'),
  JSON.stringify({ version: contracts.CATALOGUE_VERSION, requests: catalogue, events: { stream: contracts.EVENTS.stream, container: contracts.EVENTS.container.pattern } }, null, 2) + '\n',
);
console.log(`wrote JSON Schema to ${out}`);
