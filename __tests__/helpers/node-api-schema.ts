/**
 * Test oracle: is an HTTP request to the Aspera Node API valid against IBM's published OpenAPI
 * document ("IBM Aspera Node API" 4.4.6, __tests__/fixtures/ibm-node-api/, see its README)?
 *
 * Two layers, both read from the fixture, never restated by hand:
 * 1. The schema. Each operation's requestBody schema, with its $refs inlined and allOf merged,
 *    compiled by Ajv. OpenAPI 3.0 annotations (description, example, format "double") are dropped;
 *    any other keyword we do not know makes loading throw, so no constraint is ever skipped
 *    silently. On top, every object whose properties the spec lists gets additionalProperties
 *    false: we send no field IBM does not document. No type coercion: a string is a string.
 * 2. The rules IBM writes only in descriptions (the schema itself requires just storage and
 *    storage.type). Each rule quotes its phrase and names the description it comes from; loading
 *    throws if that description does not contain the phrase, so the rules cannot drift from IBM's
 *    text.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

export const NODE_API_SPEC_FILE = path.join(__dirname, '..', 'fixtures', 'ibm-node-api', 'IBM Aspera Node API-4.4.6.yaml');

type Schema = Record<string, unknown>;
type Json = Record<string, unknown>;

interface Operation {
  readonly requestBody?: { readonly required?: boolean; readonly content?: Record<string, { readonly schema?: Schema }> };
}

interface Spec {
  readonly info: { readonly version: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

const spec = parse(readFileSync(NODE_API_SPEC_FILE, 'utf8')) as Spec;

/** info.version of the fixture: tests assert it is "4.4.6". */
export const nodeApiSpecVersion: string = spec.info.version;

// ---------------------------------------------------------------------------------------------
// Layer 1: the schema

/** Keywords that constrain a value, kept as they are (OpenAPI 3.0 uses them as JSON Schema does). */
const CONSTRAINTS = new Set(['type', 'enum', 'required', 'minimum', 'maximum']);
/** Annotations, dropped: they constrain nothing Ajv should check ("double" is a number's precision). */
const ANNOTATIONS = new Set(['description', 'example', 'format', 'title']);

/** The schema with $ref inlined, allOf merged and additionalProperties false on documented objects. */
function inline(schema: Schema, where: string, refs: readonly string[] = []): Schema {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace(/^#\/components\/schemas\//, '');
    const target = spec.components.schemas[name];
    if (!target) throw new Error(`${where}: unresolved $ref ${ref}`);
    if (refs.includes(name)) throw new Error(`${where}: recursive $ref ${ref} is not supported`);
    // The title names the schema in problems ("not a property accessKeyPUTRequest defines").
    return { ...inline(target, name, [...refs, name]), title: name };
  }
  const out: Schema = {};
  const properties: Record<string, Schema> = {};
  const required = new Set<string>();
  const merge = (part: Schema): void => {
    for (const [key, value] of Object.entries(part)) {
      if (key === 'properties') Object.assign(properties, value);
      else if (key === 'required') (value as string[]).forEach((name) => required.add(name));
      else if (key === 'additionalProperties' || key === 'title') continue; // ours, set once for the merged object
      else if (key in out && JSON.stringify(out[key]) !== JSON.stringify(value)) throw new Error(`${where}: allOf parts disagree on ${key}`);
      else out[key] = value;
    }
  };
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'allOf') (value as Schema[]).forEach((part, i) => merge(inline(part, `${where}.allOf[${i}]`, refs)));
    else if (key === 'properties') {
      for (const [name, sub] of Object.entries(value as Record<string, Schema>)) properties[name] = inline(sub, `${where}.${name}`, refs);
    } else if (key === 'items') out.items = inline(value as Schema, `${where}[]`, refs);
    else if (key === 'required') (value as string[]).forEach((name) => required.add(name));
    else if (CONSTRAINTS.has(key)) out[key] = value;
    else if (!ANNOTATIONS.has(key) && !key.startsWith('x-')) throw new Error(`${where}: OpenAPI keyword "${key}" is not handled by node-api-schema.ts`);
  }
  if (Object.keys(properties).length > 0) {
    // A name the spec requires is documented even where it forgets to list it (permissions-post-request).
    for (const name of required) properties[name] ??= {};
    out.properties = properties;
    // We send no field IBM does not document. (An object the spec leaves free-form stays open.)
    out.additionalProperties = false;
  }
  if (required.size > 0) out.required = [...required];
  return out;
}

// Ajv's default strictness (an unknown keyword throws) without strictTypes: several of IBM's
// schemas outside /access_keys write "required" without "type: object".
const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false });

/** One compiled validator per operation that has a JSON request body, made on first use. */
const validators = new Map<string, ValidateFunction>();
function bodyValidator(method: string, template: string, schema: Schema): ValidateFunction {
  const key = `${method} ${template}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(inline(schema, key));
    validators.set(key, validate);
  }
  return validate;
}

/** "/storage/credentials" + "role_arn" -> "storage.credentials.role_arn"; the body itself is "(body)". */
const field = (pointer: string, child?: string): string => {
  const parts = pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.length > 0 ? parts.join('.') : '(body)';
};

function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${field(error.instancePath, String(params.missingProperty))}: required by the spec's schema`;
    case 'additionalProperties':
      return `${field(error.instancePath, String(params.additionalProperty))}: not a property ${(error.parentSchema?.title as string | undefined) ?? 'the spec'} defines (we send no field IBM does not document)`;
    default:
      return `${field(error.instancePath)}: ${error.message ?? error.keyword} (spec's schema)`;
  }
}

// ---------------------------------------------------------------------------------------------
// Layer 2: the rules IBM states in descriptions

interface DescriptionRule {
  /** Where IBM says it: components.schemas.<schema>.properties.<property>.description. */
  readonly schema: string;
  readonly property: string;
  /** IBM's words, as they appear in that description (whitespace aside). */
  readonly phrase: string;
  /** Problems in the storage object of a POST or PUT body (field names relative to the body). */
  readonly check: (storage: Json) => string[];
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const credentialsOf = (storage: Json): Json | undefined => (isObject(storage.credentials) ? storage.credentials : undefined);
const assumeRole = (storage: Json): Json | undefined => {
  const credentials = credentialsOf(storage);
  return storage.type === 'aws_s3' && credentials?.type === 'assume-role' ? credentials : undefined;
};

/** From the storage type's description: "For Amazon S3, set to "aws_s3"", "For IBM ... (COS) S3, set to "ibm-s3"". */
const S3_TYPES = ['aws_s3', 'ibm-s3'];

/**
 * IAM's role ARN: IBM documents "arn:aws:iam::{your_aws_account_id}:role/{role_name}". Beyond IBM's
 * words we allow AWS's other partitions (aws-cn, aws-us-gov, aws-iso...) and a role path
 * (role/path/name), which are the same ARN for roles outside the commercial partition or with a
 * path; the 12 digits and the name's characters are AWS's (IAM identifiers), not IBM's.
 */
const ROLE_ARN = /^arn:aws(?:-[a-z]+){0,2}:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

const requiredIn = (object: Json | undefined, name: string, at: string, why: string): string[] =>
  object && object[name] === undefined ? [`${at}.${name}: required ${why}`] : [];

const RULES: readonly DescriptionRule[] = [
  {
    schema: 'accessKeyStorageResponse',
    property: 'type',
    phrase: 'For local storage, set to "local". For Amazon S3, set to "aws_s3". For Azure Block and Page, set to "azure". For Azure SAS, set to "azure_sas". For Azure Files, set to "azure-files". For Google Cloud Storage, set to "google-gcs". For IBM Cloud Object Storage (COS) S3, set to "ibm-s3".',
    check: (storage) => {
      const documented = ['local', 'aws_s3', 'azure', 'azure_sas', 'azure-files', 'google-gcs', 'ibm-s3'];
      return typeof storage.type === 'string' && !documented.includes(storage.type)
        ? [`storage.type: ${JSON.stringify(storage.type)} is not one of the documented storage types (${documented.join(', ')})`]
        : [];
    },
  },
  {
    schema: 'accessKeyStorageResponse',
    property: 'type',
    phrase: 'If the storage type is any type other than "local", "credentials" is required.',
    check: (storage) => (typeof storage.type === 'string' && storage.type !== 'local' ? requiredIn(storage, 'credentials', 'storage', `for storage type "${storage.type}"`) : []),
  },
  {
    schema: 'accessKeyStorageResponse',
    property: 'bucket',
    phrase: 'Required for Amazon S3 or IBM COS S3, the storage bucket.',
    check: (storage) => (S3_TYPES.includes(storage.type as string) ? requiredIn(storage, 'bucket', 'storage', `for storage type "${storage.type}"`) : []),
  },
  {
    schema: 'accessKeyStorageResponse',
    property: 'endpoint',
    phrase: 'Required for Amazon S3 and IBM COS S3, the authentication endpoint.',
    check: (storage) => (S3_TYPES.includes(storage.type as string) ? requiredIn(storage, 'endpoint', 'storage', `for storage type "${storage.type}"`) : []),
  },
  {
    schema: 'accessKeycreds',
    property: 'type',
    phrase: 'Required for Amazon S3, Azure Block and Page, Google Cloud Storage, and IBM COS S3 storage. The type of access credentials provided.',
    check: (storage) =>
      ['aws_s3', 'azure', 'google-gcs', 'ibm-s3'].includes(storage.type as string)
        ? requiredIn(credentialsOf(storage), 'type', 'storage.credentials', `for storage type "${storage.type}"`)
        : [],
  },
  {
    schema: 'accessKeycreds',
    property: 'type',
    phrase: 'For Amazon S3 storage, the value is "key" (requires values for "access_key_id" and "secret_access_key"), "iam-role" (requires a value for "iam_role_name"), or "assume-role"',
    check: (storage) => {
      const type = credentialsOf(storage)?.type;
      return storage.type === 'aws_s3' && typeof type === 'string' && !['key', 'iam-role', 'assume-role'].includes(type)
        ? [`storage.credentials.type: ${JSON.stringify(type)} is not a documented credentials type for "aws_s3" (key, iam-role, assume-role)`]
        : [];
    },
  },
  {
    schema: 'accessKeycreds',
    property: 'assume_role_arn',
    phrase: 'Required for Amazon S3 storage with "assume-role" authentication, the assume role ARN',
    check: (storage) => requiredIn(assumeRole(storage), 'assume_role_arn', 'storage.credentials', 'for "assume-role" credentials'),
  },
  {
    schema: 'accessKeycreds',
    property: 'assume_role_arn',
    phrase: 'with the following format "arn:aws:iam::{your_aws_account_id}:role/{role_name}',
    check: (storage) => {
      const arn = assumeRole(storage)?.assume_role_arn;
      return typeof arn === 'string' && !ROLE_ARN.test(arn)
        ? [`storage.credentials.assume_role_arn: ${JSON.stringify(arn)} is not of the documented form arn:aws:iam::{your_aws_account_id}:role/{role_name}`]
        : [];
    },
  },
  {
    schema: 'accessKeycreds',
    property: 'assume_role_external_id',
    phrase: 'Required for Amazon S3 storage with "assume-role" authentication, the assume role external ID.',
    check: (storage) => requiredIn(assumeRole(storage), 'assume_role_external_id', 'storage.credentials', 'for "assume-role" credentials'),
  },
  {
    // Stated so that the choice is checked against IBM's text like the others. IBM contradicts
    // itself here: accessKeycreds.type says "assume-role" "(requires values for "assume_role_arn",
    // "assume_role_external_id", and "assume_role_session_name")". We follow the property's own
    // description; a body that always sends the session name (ours does) is valid either way.
    schema: 'accessKeycreds',
    property: 'assume_role_session_name',
    phrase: 'For Amazon S3 storage with "assume-role" authentication, the assume role session name. Optional.',
    check: () => [],
  },
];

const words = (text: string): string => text.replace(/\s+/g, ' ').trim();
for (const rule of RULES) {
  const properties = spec.components.schemas[rule.schema]?.properties as Record<string, Schema> | undefined;
  const description = properties?.[rule.property]?.description;
  if (typeof description !== 'string' || !words(description).includes(words(rule.phrase))) {
    throw new Error(`node-api-schema.ts: IBM's description of ${rule.schema}.${rule.property} (Node API ${nodeApiSpecVersion}) does not say ${JSON.stringify(rule.phrase)}`);
  }
}

// ---------------------------------------------------------------------------------------------

/** The spec's path templates, literal ones first so that /files/browse wins over /files/{id}. */
const TEMPLATES = Object.keys(spec.paths)
  .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) }))
  .sort((a, b) => Number(a.template.includes('{')) - Number(b.template.includes('{')));

/**
 * Problems with one request against IBM's Node API 4.4.6 document; [] when it is valid. `path` is
 * the request path (a query string is ignored); `body` the parsed JSON body, undefined for none.
 */
export function checkNodeApiRequest(method: string, path: string, body: unknown): string[] {
  const pathname = path.split('?')[0];
  const verb = method.toLowerCase();
  const template = TEMPLATES.find(({ pattern }) => pattern.test(pathname))?.template;
  const operation = template === undefined ? undefined : spec.paths[template][verb];
  if (template === undefined || !operation) return [`${method.toUpperCase()} ${pathname}: no such operation in IBM Aspera Node API ${nodeApiSpecVersion}`];

  const schema = operation.requestBody?.content?.['application/json']?.schema;
  if (!schema) {
    return body === undefined ? [] : [`(body): ${method.toUpperCase()} ${template} takes no request body in the spec`];
  }
  if (body === undefined) return operation.requestBody?.required ? [`(body): ${method.toUpperCase()} ${template} requires a JSON request body`] : [];

  const validate = bodyValidator(verb, template, schema);
  const problems = validate(body) ? [] : (validate.errors ?? []).map(describeAjvError);
  // The description rules apply to the storage object of POST /access_keys and PUT /access_keys/{id}.
  if (template.startsWith('/access_keys') && isObject(body) && isObject(body.storage)) {
    const storage = body.storage;
    problems.push(...RULES.flatMap((rule) => rule.check(storage).map((problem) => `${problem} (IBM: ${rule.schema}.${rule.property} description)`)));
  }
  return problems;
}
