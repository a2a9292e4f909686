/** The parts of the gateway's OpenAPI document the fuzzer reads. */
export type JsonSchema = Record<string, unknown>;

export interface Operation {
  method: string;
  /** OpenAPI template, e.g. `/api/containers/{id}` */
  path: string;
  pathParams: { name: string; schema: JsonSchema }[];
  headerParams: { name: string; schema: JsonSchema }[];
  body: JsonSchema | undefined;
  /** false for routes documented with `security: []` */
  secured: boolean;
}

interface Doc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string; schema: JsonSchema }[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
        security?: unknown[];
      }
    >
  >;
  components?: { schemas?: Record<string, JsonSchema> };
  security?: unknown[];
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Resolves `#/components/schemas/X` references, one level at a time. */
export function resolver(doc: unknown): (schema: JsonSchema) => JsonSchema {
  const schemas = (doc as Doc).components?.schemas ?? {};
  return function resolve(schema) {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const target = schemas[ref.replace('#/components/schemas/', '')];
    if (!target) throw new Error(`unresolvable $ref ${ref}`);
    return resolve(target);
  };
}

/** Every documented operation; throws on a document with none, so an empty fuzz cannot pass. */
export function operationsOf(doc: unknown): Operation[] {
  const d = doc as Doc;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(d.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const params = op.parameters ?? [];
      const pick = (where: string) => params.filter((p) => p.in === where).map((p) => ({ name: p.name, schema: p.schema }));
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
      const pathParams = pick('path');
      for (const name of templated) if (!pathParams.some((p) => p.name === name)) pathParams.push({ name, schema: { type: 'string' } });
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams,
        headerParams: pick('header'),
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: (op.security ?? d.security ?? []).length > 0,
      });
    }
  }
  if (ops.length === 0) throw new Error('the OpenAPI document has no operations');
  return ops;
}
