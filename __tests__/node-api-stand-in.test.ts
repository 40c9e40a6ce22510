/**
 * Checks the Node API oracle (helpers/node-api-schema.ts) and the stand-in server
 * (helpers/node-api-stand-in.ts) themselves, so that host-script tests can trust what they report:
 * the fixture is IBM's file unchanged, a correct body passes, each documented requirement is
 * enforced and named, and the stand-in answers as the spec says.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkNodeApiRequest, NODE_API_SPEC_FILE, nodeApiSpecVersion } from './helpers/node-api-schema';
import { startNodeApiStandIn, type NodeApiStandIn, type StandInKey } from './helpers/node-api-stand-in';

/**
 * sha256 of "openapi/IBM Aspera Node API-4.4.6.yaml" in laurent-martin/aspera-api-examples at
 * commit c3ff54fac2bee01380924d32bcae449829e24e30 (git blob aed2149567d0c52f11d68b38e87b54ae0421cce8).
 */
const UPSTREAM_SHA256 = '2441e9f82e28854f9ad36ccdb49c2dec6290d541e524a171f240288a0f72ce7f';

const ID = 'aspera-cross-account-111111111111-xfer2';
const storage = () => ({
  type: 'aws_s3',
  bucket: 'acme-aspera-inbox',
  endpoint: 's3.amazonaws.com',
  path: '/',
  credentials: {
    type: 'assume-role',
    assume_role_arn: 'arn:aws:iam::111111111111:role/aspera-cross-account-xfer2',
    assume_role_external_id: 'aspera-7f3c9e21',
    assume_role_session_name: 'aspera-cross-account.xfer2',
  },
});
/** What our script sends: POST /access_keys. PUT sends the same without id. */
const postBody = (): Record<string, any> => ({ id: ID, secret: 'ab'.repeat(32), storage: storage() });
const putBody = (): Record<string, any> => {
  const { id: _id, ...rest } = postBody();
  return rest;
};

/** Problems of a POST body changed by `edit`. */
const postProblems = (edit: (body: Record<string, any>) => void): string[] => {
  const body = postBody();
  edit(body);
  return checkNodeApiRequest('POST', '/access_keys', body);
};
const fields = (problems: string[]): string[] => problems.map((problem) => problem.slice(0, problem.indexOf(':')));

describe('the fixture', () => {
  test('is IBM Aspera Node API 4.4.6, byte for byte the upstream file', () => {
    expect(nodeApiSpecVersion).toBe('4.4.6');
    expect(createHash('sha256').update(readFileSync(NODE_API_SPEC_FILE)).digest('hex')).toBe(UPSTREAM_SHA256);
  });

  test("the rules' phrases are checked against IBM's text: a changed description stops the module from loading", () => {
    const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
    jest.isolateModules(() => {
      jest.doMock('node:fs', () => ({
        ...fs,
        readFileSync: (file: string, encoding: BufferEncoding) =>
          fs.readFileSync(file, encoding).replace('Required for Amazon S3 or IBM COS S3, the storage bucket.', 'The storage bucket.'),
      }));
      expect(() => require('./helpers/node-api-schema')).toThrow(/accessKeyStorageResponse\.bucket .*does not say/);
    });
    jest.dontMock('node:fs');
  });
});

describe('checkNodeApiRequest', () => {
  test('the body our script sends is valid for POST /access_keys and, without id, for PUT /access_keys/{id}', () => {
    expect(checkNodeApiRequest('POST', '/access_keys', postBody())).toEqual([]);
    expect(checkNodeApiRequest('PUT', `/access_keys/${ID}`, putBody())).toEqual([]);
  });

  test('GET and DELETE /access_keys/{id}, GET /info and GET /ping are valid without a body', () => {
    for (const [method, path] of [['GET', `/access_keys/${ID}`], ['DELETE', `/access_keys/${ID}`], ['GET', '/info'], ['GET', '/ping'], ['GET', '/access_keys?page=1']]) {
      expect(checkNodeApiRequest(method, path, undefined)).toEqual([]);
    }
  });

  test.each<[string, (body: Record<string, any>) => void, string]>([
    ['missing storage', (b) => delete b.storage, 'storage'],
    ['storage.type missing', (b) => delete b.storage.type, 'storage.type'],
    ['storage type not documented', (b) => (b.storage.type = 's3'), 'storage.type'],
    ['aws_s3 without bucket', (b) => delete b.storage.bucket, 'storage.bucket'],
    ['aws_s3 without endpoint', (b) => delete b.storage.endpoint, 'storage.endpoint'],
    ['aws_s3 without credentials', (b) => delete b.storage.credentials, 'storage.credentials'],
    ['credentials without type', (b) => delete b.storage.credentials.type, 'storage.credentials.type'],
    ['credentials type not documented for aws_s3', (b) => (b.storage.credentials.type = 'assume_role'), 'storage.credentials.type'],
    ['assume-role without assume_role_arn', (b) => delete b.storage.credentials.assume_role_arn, 'storage.credentials.assume_role_arn'],
    ['assume-role without assume_role_external_id', (b) => delete b.storage.credentials.assume_role_external_id, 'storage.credentials.assume_role_external_id'],
    ['an S3 ARN for the role', (b) => (b.storage.credentials.assume_role_arn = 'arn:aws:s3:::acme-aspera-inbox'), 'storage.credentials.assume_role_arn'],
    ['a role name for the ARN', (b) => (b.storage.credentials.assume_role_arn = 'aspera-cross-account-xfer2'), 'storage.credentials.assume_role_arn'],
    ['an ARN with a short account', (b) => (b.storage.credentials.assume_role_arn = 'arn:aws:iam::1111:role/x'), 'storage.credentials.assume_role_arn'],
    ['a user ARN', (b) => (b.storage.credentials.assume_role_arn = 'arn:aws:iam::111111111111:user/x'), 'storage.credentials.assume_role_arn'],
    ['a number for the bucket', (b) => (b.storage.bucket = 42), 'storage.bucket'],
    ['a number for the external id', (b) => (b.storage.credentials.assume_role_external_id = 12345678), 'storage.credentials.assume_role_external_id'],
    ['a string for storage', (b) => (b.storage = 'aws_s3'), 'storage'],
    ['undocumented storage.credentials.role_arn', (b) => (b.storage.credentials.role_arn = b.storage.credentials.assume_role_arn), 'storage.credentials.role_arn'],
    ['undocumented storage.region', (b) => (b.storage.region = 'eu-west-1'), 'storage.region'],
    ['undocumented top-level name', (b) => (b.name = 'xfer2'), 'name'],
  ])('POST with %s is a problem naming the field', (_case, edit, field) => {
    expect(fields(postProblems(edit))).toContain(field);
  });

  test('assume_role_session_name is optional (its own description says so); other partitions and role paths are role ARNs', () => {
    expect(postProblems((b) => delete b.storage.credentials.assume_role_session_name)).toEqual([]);
    for (const arn of ['arn:aws-cn:iam::111111111111:role/x', 'arn:aws-us-gov:iam::111111111111:role/x', 'arn:aws:iam::111111111111:role/aspera/grants/x']) {
      expect(postProblems((b) => (b.storage.credentials.assume_role_arn = arn))).toEqual([]);
    }
  });

  test('PUT with id is a problem: accessKeyPUTRequest has no id ("The access key ID cannot be updated")', () => {
    const problems = checkNodeApiRequest('PUT', `/access_keys/${ID}`, postBody());
    expect(problems).toEqual([expect.stringMatching(/^id: not a property accessKeyPUTRequest defines/)]);
  });

  test('PUT applies the same storage rules', () => {
    const body = putBody();
    delete body.storage.credentials.assume_role_external_id;
    expect(fields(checkNodeApiRequest('PUT', `/access_keys/${ID}`, body))).toEqual(['storage.credentials.assume_role_external_id']);
  });

  test('a body where the spec has none, none where it requires one, and an operation it does not have are problems', () => {
    expect(checkNodeApiRequest('GET', `/access_keys/${ID}`, {})).toEqual([expect.stringMatching(/^\(body\): GET \/access_keys\/\{access_key_id\} takes no request body/)]);
    expect(checkNodeApiRequest('DELETE', `/access_keys/${ID}`, { id: ID })).toHaveLength(1);
    expect(checkNodeApiRequest('POST', '/access_keys', undefined)).toEqual([expect.stringMatching(/requires a JSON request body/)]);
    expect(checkNodeApiRequest('PATCH', `/access_keys/${ID}`, undefined)).toEqual([expect.stringMatching(/no such operation/)]);
    expect(checkNodeApiRequest('GET', '/access_key', undefined)).toEqual([expect.stringMatching(/no such operation/)]);
    expect(checkNodeApiRequest('GET', '/access_keys/', undefined)).toEqual([expect.stringMatching(/no such operation/)]);
  });
});

describe('the stand-in', () => {
  const USERS = { node_admin: 'n0de-pass', other_admin: 'other-pass' };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  /** Started by this test, closed after it; `call` talks to the last one. */
  const running: NodeApiStandIn[] = [];
  const start = async (options: Parameters<typeof startNodeApiStandIn>[0]): Promise<NodeApiStandIn> => {
    running.push(await startNodeApiStandIn(options));
    return running[running.length - 1];
  };

  /** A request as node_admin (or `as`), JSON body when given. */
  const call = async (method: string, path: string, body?: unknown, as: [string, string] = ['node_admin', USERS.node_admin]) => {
    const response = await fetch(`${running[running.length - 1].url}${path}`, {
      method,
      headers: { authorization: basic(...as), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  const FOREIGN: StandInKey = { id: 'someone-elses-key', secret: 's'.repeat(64), storage: { ...storage(), bucket: 'their-bucket' }, owner: 'other_admin' };

  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.close()));
  });

  test('listens on 127.0.0.1 and answers 401 with an IBM error body for a wrong password or none', async () => {
    const standIn = await start({ users: USERS });
    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await call('GET', `/access_keys/${ID}`, undefined, ['node_admin', 'wrong'])).toEqual({
      status: 401,
      body: { error: { code: 401, reason: 'Unauthorized', user_message: expect.any(String) } },
    });
    expect((await fetch(`${standIn.url}/access_keys/${ID}`)).status).toBe(401);
    expect(standIn.requests.map(({ user, status }) => ({ user, status }))).toEqual([{ user: 'node_admin', status: 401 }, { user: undefined, status: 401 }]);
  });

  test('POST, GET, PUT, DELETE round trip: 200, 200 without credentials or secret, 204, 204, then 404', async () => {
    const standIn = await start({ users: USERS });
    const { credentials: _credentials, ...publicStorage } = storage();
    expect(await call('POST', '/access_keys', postBody())).toEqual({ status: 200, body: { id: ID, storage: publicStorage } });
    expect(standIn.keys.get(ID)).toEqual({ id: ID, secret: 'ab'.repeat(32), storage: storage(), owner: 'node_admin' });
    expect(await call('GET', `/access_keys/${ID}`)).toEqual({ status: 200, body: { id: ID, storage: publicStorage } });

    const changed = putBody();
    changed.secret = 'cd'.repeat(32);
    changed.storage.credentials.assume_role_external_id = 'aspera-00000000';
    expect(await call('PUT', `/access_keys/${ID}`, changed)).toEqual({ status: 204, body: undefined });
    expect(standIn.keys.get(ID)).toMatchObject({ secret: 'cd'.repeat(32), storage: { credentials: { assume_role_external_id: 'aspera-00000000' } } });

    expect(await call('DELETE', `/access_keys/${ID}`)).toEqual({ status: 204, body: undefined });
    expect(standIn.keys.has(ID)).toBe(false);
    expect((await call('GET', `/access_keys/${ID}`)).status).toBe(404);
    expect((await call('PUT', `/access_keys/${ID}`, putBody())).status).toBe(404);
    expect((await call('DELETE', `/access_keys/${ID}`)).status).toBe(404);

    expect(standIn.requests.every(({ schemaProblems }) => schemaProblems.length === 0)).toBe(true);
    expect(standIn.writes().map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 200', 'PUT 204', 'DELETE 204', 'PUT 404', 'DELETE 404']);
  });

  test('a second POST of the same id is 409 "The access key id already exists"', async () => {
    await start({ users: USERS });
    expect((await call('POST', '/access_keys', postBody())).status).toBe(200);
    expect(await call('POST', '/access_keys', postBody())).toEqual({
      status: 409,
      body: { error: { code: 409, reason: 'Conflict', user_message: 'The access key id already exists.' } },
    });
  });

  test.each<['visible' | 'hidden' | undefined, number]>([
    [undefined, 200],
    ['visible', 200],
    ['hidden', 404],
  ])('another node user\'s key (foreignKeys %s): GET %i, PUT and DELETE 404, POST of its id 409', async (foreignKeys, getStatus) => {
    const standIn = await start({ users: USERS, keys: [FOREIGN], foreignKeys });
    const path = `/access_keys/${FOREIGN.id}`;
    expect((await call('GET', path)).status).toBe(getStatus);
    expect((await call('PUT', path, putBody())).status).toBe(404);
    expect((await call('DELETE', path)).status).toBe(404);
    expect((await call('POST', '/access_keys', { ...postBody(), id: FOREIGN.id })).status).toBe(409);
    expect(standIn.keys.get(FOREIGN.id)).toEqual(FOREIGN);
    // Its owner sees it whatever foreignKeys says.
    expect((await call('GET', path, undefined, ['other_admin', USERS.other_admin])).status).toBe(200);
  });

  test('failWith answers the matching requests with the status, then normal service resumes', async () => {
    const standIn = await start({ users: USERS });
    standIn.failWith({ method: 'POST', pathPrefix: '/access_keys', status: 500, userMessage: 'node down', times: 1 });
    expect((await call('GET', `/access_keys/${ID}`)).status).toBe(404); // not matching: GET
    expect(await call('POST', '/access_keys', postBody())).toEqual({ status: 500, body: { error: { code: 500, reason: 'Internal Server Error', user_message: 'node down' } } });
    expect(standIn.keys.has(ID)).toBe(false);
    expect((await call('POST', '/access_keys', postBody())).status).toBe(200);

    standIn.failWith({ status: 503 });
    expect((await call('GET', `/access_keys/${ID}`)).status).toBe(503);
    expect((await call('GET', `/access_keys/${ID}`)).status).toBe(503);
    standIn.failWith(undefined);
    expect((await call('GET', `/access_keys/${ID}`)).status).toBe(200);
  });

  test('requests are recorded with their user, body and schema problems; a request breaking the spec is 400 naming the field', async () => {
    const standIn = await start({ users: USERS });
    const bad = postBody();
    delete bad.storage.credentials.assume_role_external_id;
    const answer = await call('POST', '/access_keys', bad, ['other_admin', USERS.other_admin]);
    expect(answer.status).toBe(400);
    expect(answer.body.error.user_message).toContain('storage.credentials.assume_role_external_id');
    expect(standIn.keys.size).toBe(0);

    const put = await fetch(`${standIn.url}/access_keys/${ID}`, { method: 'PUT', headers: { authorization: basic('node_admin', USERS.node_admin) }, body: 'secret=x' });
    expect(put.status).toBe(400);

    expect(standIn.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: '/access_keys', user: 'other_admin', body: bad, rawBody: JSON.stringify(bad), status: 400, schemaProblems: [expect.stringMatching(/^storage\.credentials\.assume_role_external_id:/)] }),
      expect.objectContaining({ method: 'PUT', user: 'node_admin', body: undefined, rawBody: 'secret=x', status: 400, schemaProblems: ['(body): not JSON', expect.stringMatching(/^\(headers\) Content-Type/)] }),
    ]);
  });

  test('snapshotProcesses records the arguments of the processes running when a request arrived', async () => {
    const standIn = await start({ users: USERS, snapshotProcesses: true });
    const client = 'fetch(process.argv[1], { headers: { authorization: process.argv[2] } }).then((r) => process.exit(r.status === 200 ? 0 : 1))';
    await promisify(execFile)(process.execPath, ['-e', client, `${standIn.url}/ping`, basic('node_admin', USERS.node_admin), 'MARKER-IN-CLIENT-ARGS']);
    expect(standIn.requests).toHaveLength(1);
    expect(standIn.requests[0].processes).toContain('MARKER-IN-CLIENT-ARGS');
  });

  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (hasOpenssl ? test : test.skip)('serves https when given a key and certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'node-api-tls-'));
    try {
      const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const standIn = await start({ users: USERS, tls: { key: readFileSync(key), cert: readFileSync(cert) } });
      expect(standIn.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        https
          .get(`${standIn.url}/ping`, { ca: readFileSync(cert), headers: { authorization: basic('node_admin', USERS.node_admin) } }, (response) => {
            response.resume();
            resolve(response.statusCode);
          })
          .on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
