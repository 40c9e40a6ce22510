/**
 * A stand-in for the HSTS Node API's /access_keys endpoints on 127.0.0.1, behaving as IBM's
 * OpenAPI document "IBM Aspera Node API" 4.4.6 describes them (fixture: __tests__/fixtures/
 * ibm-node-api/), so that host-script tests talk HTTP to something that answers like the node.
 *
 * Every request is checked against the spec (checkNodeApiRequest) and recorded. A request is
 * answered, in this order: failWith's rule if it matches; 401 without valid Basic credentials
 * (securitySchemes basicAuth: Node API users); 404 for a path the stand-in does not serve; 400
 * when it breaks the spec; else the operation. Errors carry the spec's `error` schema:
 * {"error":{"code","reason","user_message"}} (errorBody).
 *
 * Choices where the spec is silent or loose, each marked "Choice" below:
 * - GET answers accessKeyGETMetadata with storage as accessKeyStorageResponse defines it: no
 *   credentials (they exist only in accessKeyStorageRequest) and no secret.
 * - PUT merges at the top level: a `storage` sent replaces the stored one whole, since the schema
 *   requires storage.type wherever storage appears.
 * - Fields the stand-in does not model (license, configuration, token_verification_key) are
 *   checked against the spec, then not stored.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { checkNodeApiRequest } from './node-api-schema';

export interface StandInKey {
  id: string;
  secret?: string;
  storage: Record<string, unknown>;
  /** The Node API user the key belongs to (the one that created it). */
  owner: string;
}

export interface RecordedRequest {
  method: string;
  /** As sent, query string included. */
  path: string;
  /** The user name of the Basic credentials as sent, accepted or not. */
  user?: string;
  rawBody: string;
  /** The JSON body, parsed; undefined when there is none or it is not JSON. */
  body?: unknown;
  /** checkNodeApiRequest's problems, plus a body that is not JSON or not sent as application/json. */
  schemaProblems: string[];
  status: number;
  /** `ps -eo args` when the request arrived (snapshotProcesses). */
  processes?: string;
}

export interface NodeApiStandIn {
  /** "http://127.0.0.1:<port>", or https when started with `tls`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly keys: Map<string, StandInKey>;
  /**
   * Answer the next matching requests with this status and an IBM error body instead of handling
   * them: `times` requests, or all of them until cleared when `times` is not given. undefined clears.
   */
  failWith(rule?: { method?: string; pathPrefix?: string; status: number; userMessage?: string; times?: number }): void;
  /** Requests other than GET (the writes). */
  writes(): RecordedRequest[];
  close(): Promise<void>;
}

export interface NodeApiStandInOptions {
  /** Node API users: name -> password. */
  users: Record<string, string>;
  keys?: StandInKey[];
  /** Whether a user sees, with GET, keys another Node API user owns (default 'visible'). */
  foreignKeys?: 'visible' | 'hidden';
  snapshotProcesses?: boolean;
  /** Called with each request once answered and recorded, before the answer is sent (node-api-stand-in-process.ts writes its records then). */
  onRequest?: (request: RecordedRequest, keys: ReadonlyMap<string, StandInKey>) => void;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

interface Answer {
  status: number;
  body?: unknown;
}

/** The spec's `error` response (schemas error, errorBody). */
const ibmError = (status: number, userMessage: string): Answer => ({
  status,
  body: { error: { code: status, reason: http.STATUS_CODES[status] ?? 'Error', user_message: userMessage } },
});

/** accessKeyGETMetadata. Choice: storage as accessKeyStorageResponse, i.e. without credentials, and no secret. */
function metadata(key: StandInKey): Record<string, unknown> {
  const { credentials: _credentials, ...storage } = key.storage;
  return { id: key.id, storage };
}

function basicUser(header: string | undefined): { user?: string; password?: string } {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return {};
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { user: decoded } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A malformed escape (%zz) names no key rather than failing the handler. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function startNodeApiStandIn(options: NodeApiStandInOptions): Promise<NodeApiStandIn> {
  const requests: RecordedRequest[] = [];
  const keys = new Map((options.keys ?? []).map((key): [string, StandInKey] => [key.id, structuredClone(key)]));
  let failure: { method?: string; pathPrefix?: string; status: number; userMessage?: string; times?: number } | undefined;

  /** The operations (Node API 4.4.6, paths /access_keys, /access_keys/{access_key_id}, /ping). */
  function operate(method: string, pathname: string, user: string, body: Record<string, unknown> | undefined, problems: string[]): Answer {
    const collection = pathname === '/access_keys';
    const one = /^\/access_keys\/([^/]+)$/.exec(pathname);
    if (!collection && !one && pathname !== '/ping') return ibmError(404, `${pathname} is not served by this Node API stand-in`);
    // 400 Bad Request, documented for every /access_keys operation.
    if (problems.length > 0) return ibmError(400, `Invalid request: ${problems[0]}`);
    // GET /ping: "200 OK. No Content."
    if (pathname === '/ping') return { status: 200 };

    if (collection) {
      // GET /access_keys: accessKeyGETall, "all access keys to which the user has access".
      if (method === 'GET') return { status: 200, body: [...keys.values()].filter((key) => key.owner === user || options.foreignKeys !== 'hidden').map(metadata) };
      // POST /access_keys: 200 with accessKeyGETMetadata; 409 "Conflict. The access key id already
      // exists.", whoever owns it; without an id "the Node API creates one" (accessKeyRequest.id).
      const id = typeof body?.id === 'string' ? body.id : randomBytes(12).toString('hex');
      if (keys.has(id)) return ibmError(409, 'The access key id already exists.');
      const key: StandInKey = { id, secret: body?.secret as string | undefined, storage: structuredClone(body?.storage as Record<string, unknown>), owner: user };
      keys.set(id, key);
      return { status: 200, body: metadata(key) };
    }

    const key = keys.get(decodePathSegment(one![1]));
    const owned = key !== undefined && key.owner === user;
    switch (method) {
      case 'GET':
        // GET /access_keys/{access_key_id}: "an access key to which the authentication method has
        // access". Whether another node user's key is visible is not documented: foreignKeys.
        return key && (owned || options.foreignKeys !== 'hidden') ? { status: 200, body: metadata(key) } : ibmError(404, 'Access key not found');
      case 'PUT':
        // PUT: "can contain all or only the updated element-value pairs. The access key ID cannot be
        // updated." 204 No Content. Choice: top-level merge, a sent storage replaces the old one.
        if (!owned) return ibmError(404, 'Access key not found');
        if (typeof body?.secret === 'string') key.secret = body.secret;
        if (body?.storage !== undefined) key.storage = structuredClone(body.storage as Record<string, unknown>);
        return { status: 204 };
      case 'DELETE':
        // DELETE: 204 No Content.
        if (!owned) return ibmError(404, 'Access key not found');
        keys.delete(key.id);
        return { status: 204 };
      default:
        return ibmError(404, `${method} ${pathname} is not served by this Node API stand-in`);
    }
  }

  function answer(req: http.IncomingMessage, record: RecordedRequest): Answer {
    if (failure && (!failure.method || failure.method === record.method) && (!failure.pathPrefix || record.path.startsWith(failure.pathPrefix))) {
      const { status, userMessage } = failure;
      if (failure.times !== undefined && --failure.times <= 0) failure = undefined;
      return ibmError(status, userMessage ?? `Failure injected by the test (${status})`);
    }
    const { user, password } = basicUser(req.headers.authorization);
    if (user === undefined || password === undefined || !Object.hasOwn(options.users, user) || options.users[user] !== password) {
      return ibmError(401, 'Authentication failed: a Node API user and password are required');
    }
    const body = typeof record.body === 'object' && record.body !== null ? (record.body as Record<string, unknown>) : undefined;
    return operate(record.method, record.path.split('?')[0], user, body, record.schemaProblems);
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Taken on arrival, while the client (e.g. curl) still runs and waits for the answer.
    const processes = options.snapshotProcesses ? execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }) : undefined;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const method = req.method ?? '';
      const path = req.url ?? '';
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const problems: string[] = [];
      let body: unknown;
      if (rawBody === '') problems.push(...checkNodeApiRequest(method, path, undefined));
      else {
        try {
          body = JSON.parse(rawBody);
          problems.push(...checkNodeApiRequest(method, path, body));
        } catch {
          problems.push('(body): not JSON');
        }
        // The spec's request bodies are application/json only (curl -d alone sends
        // application/x-www-form-urlencoded).
        const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (contentType !== 'application/json') problems.push(`(headers) Content-Type: ${JSON.stringify(contentType)} where the spec has application/json`);
      }
      const record: RecordedRequest = { method, path, user: basicUser(req.headers.authorization).user, rawBody, body, schemaProblems: problems, status: 0, processes };
      const { status, body: payload } = answer(req, record);
      record.status = status;
      requests.push(record);
      options.onRequest?.(record, keys);
      if (payload === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(payload));
    });
  };

  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    keys,
    failWith: (rule) => {
      failure = rule && { ...rule };
    },
    writes: () => requests.filter((request) => request.method !== 'GET'),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // fetch keeps connections alive; close would wait for them
      }),
  };
}
