import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PipelineError } from '../../src/core/errors.ts';
import {
  isConnectPhaseError,
  isStandbyError,
  parseRemoteException,
  remoteExceptionError,
  stripJavaStack,
  transportError,
  webHdfsHttpError,
} from '../../src/clients/webhdfs-errors.ts';
import type { ErrorContext } from '../../src/clients/webhdfs-errors.ts';
import { DEFAULT_TIMEOUTS, httpRequest } from '../../src/clients/webhdfs-http.ts';
import {
  parseBooleanAnswer,
  parseGetFileStatus,
  parseJson,
  parseListStatus,
} from '../../src/clients/webhdfs-types.ts';

const ctx: ErrorContext = { op: 'CREATE', path: '/t/a', step: 'namenode', server: 'http://nn:9870' };

function remoteBody(exception: string, javaClassName: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ RemoteException: { exception, javaClassName, message } }));
}

test('parseRemoteException reads the three fields; tolerates a missing simple name; rejects non-RemoteException bodies', () => {
  assert.deepEqual(parseRemoteException(remoteBody('FileNotFoundException', 'java.io.FileNotFoundException', 'File does not exist: /x')), {
    exception: 'FileNotFoundException',
    javaClassName: 'java.io.FileNotFoundException',
    message: 'File does not exist: /x',
  });
  assert.deepEqual(parseRemoteException('{"RemoteException":{"javaClassName":"org.apache.hadoop.ipc.StandbyException"}}'), {
    exception: 'StandbyException',
    javaClassName: 'org.apache.hadoop.ipc.StandbyException',
    message: '',
  });
  // The Java stack trace a DataNode appends to the message is dropped.
  const fromDataNode = remoteBody(
    'FileAlreadyExistsException',
    'org.apache.hadoop.fs.FileAlreadyExistsException',
    '/t/f for client 127.0.0.1 already exists\n\tat org.apache.hadoop.hdfs.server.namenode.FSDirWriteFileOp.startFile(FSDirWriteFileOp.java:388)\n\tat org.apache.hadoop.ipc.Server$Handler.run(Server.java:3198)\n',
  );
  assert.equal(parseRemoteException(fromDataNode)?.message, '/t/f for client 127.0.0.1 already exists');
  assert.equal(stripJavaStack('Directory is not empty\nsecond line'), 'Directory is not empty\nsecond line');
  for (const body of ['', '<html>502</html>', '{"RemoteException":null}', '{"boolean":false}', '{"RemoteException":{}}', '{"Remote']) {
    assert.equal(parseRemoteException(body), undefined, body);
  }
});

test('RemoteException classes map to codes and retryability; details keep exception, javaClassName, message', () => {
  const cases: Array<[string, string, number, string, boolean]> = [
    ['FileNotFoundException', 'java.io.FileNotFoundException', 404, 'NOT_FOUND', false],
    ['AccessControlException', 'org.apache.hadoop.security.AccessControlException', 403, 'AUTH', false],
    ['SecurityException', 'java.lang.SecurityException', 401, 'AUTH', false],
    ['StandbyException', 'org.apache.hadoop.ipc.StandbyException', 403, 'UNAVAILABLE', true],
    ['SafeModeException', 'org.apache.hadoop.hdfs.server.namenode.SafeModeException', 403, 'UNAVAILABLE', true],
    ['RetriableException', 'org.apache.hadoop.ipc.RetriableException', 403, 'UNAVAILABLE', true],
    ['RecoveryInProgressException', 'org.apache.hadoop.hdfs.protocol.RecoveryInProgressException', 403, 'UNAVAILABLE', true],
    ['FileAlreadyExistsException', 'org.apache.hadoop.fs.FileAlreadyExistsException', 403, 'REJECTED', false],
    ['PathIsNotEmptyDirectoryException', 'org.apache.hadoop.fs.PathIsNotEmptyDirectoryException', 403, 'REJECTED', false],
    ['DSQuotaExceededException', 'org.apache.hadoop.hdfs.protocol.DSQuotaExceededException', 403, 'REJECTED', false],
    ['IllegalArgumentException', 'java.lang.IllegalArgumentException', 400, 'REJECTED', false],
    // Hadoop answers 403 for every IOException: an unknown subclass is REJECTED, never AUTH.
    ['SomeNewIOException', 'org.apache.hadoop.fs.SomeNewIOException', 403, 'REJECTED', false],
    // A plain IOException is server-side I/O trouble: retryable.
    ['IOException', 'java.io.IOException', 403, 'UNAVAILABLE', true],
    // Unknown classes on other statuses: by status.
    ['NullPointerException', 'java.lang.NullPointerException', 500, 'UNAVAILABLE', true],
    ['WeirdException', 'x.WeirdException', 401, 'AUTH', false],
  ];
  for (const [exception, javaClassName, status, code, retryable] of cases) {
    const err = remoteExceptionError(status, { exception, javaClassName, message: `msg of ${exception}\nstack...` }, ctx);
    assert.ok(err instanceof PipelineError);
    assert.equal(err.code, code, exception);
    assert.equal(err.retryable, retryable, exception);
    assert.equal(err.details.exception, exception);
    assert.equal(err.details.javaClassName, javaClassName);
    assert.equal(err.details.message, `msg of ${exception}\nstack...`);
    assert.equal(err.details.status, status);
    assert.equal(err.details.op, 'CREATE');
    assert.equal(err.details.path, '/t/a');
    assert.equal(err.details.step, 'namenode');
    assert.match(err.message, new RegExp(`^WebHDFS CREATE /t/a: ${exception}: msg of ${exception}$`));
  }
});

test('"no DataNode" IOExceptions are flagged; isStandbyError recognises only StandbyException', () => {
  const err = remoteExceptionError(
    403,
    { exception: 'IOException', javaClassName: 'java.io.IOException', message: 'Failed to find datanode, suggest to check cluster health. excludeDatanodes=null' },
    ctx,
  );
  assert.equal(err.code, 'UNAVAILABLE');
  assert.equal(err.details.noDataNode, true);
  assert.equal(isStandbyError(webHdfsHttpError(403, remoteBody('StandbyException', 'org.apache.hadoop.ipc.StandbyException', 'Operation category READ is not supported in state standby'), ctx)), true);
  assert.equal(isStandbyError(webHdfsHttpError(403, remoteBody('SafeModeException', 'x.SafeModeException', 'safe'), ctx)), false);
  assert.equal(isStandbyError(new Error('StandbyException')), false);
});

test('non-JSON error answers are classified by status, with the start of the body in the message', () => {
  const html = webHdfsHttpError(502, Buffer.from('<html>\n<body>Bad   Gateway</body></html>'), { ...ctx, step: 'datanode' });
  assert.equal(html.code, 'UNAVAILABLE');
  assert.equal(html.retryable, true);
  assert.equal(html.details.step, 'datanode');
  assert.match(html.message, /HTTP 502: <html> <body>Bad Gateway/);
  const notFound = webHdfsHttpError(404, Buffer.alloc(0), ctx);
  assert.equal(notFound.code, 'NOT_FOUND');
  assert.equal(notFound.details.exception, undefined, 'a bare 404 is not a FileNotFoundException');
  const limited = webHdfsHttpError(429, Buffer.from('slow down'), ctx, '3');
  assert.equal(limited.code, 'RATE_LIMITED');
  assert.equal(limited.retryAfterMs, 3000);
});

test('transport errors from real sockets: refused connection is NETWORK in the connect phase', async () => {
  const err = await httpRequest('http://127.0.0.1:1/webhdfs/v1/?op=LISTSTATUS', { method: 'GET', timeouts: DEFAULT_TIMEOUTS }, ctx).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PipelineError);
  assert.equal(err.code, 'NETWORK');
  assert.equal(err.retryable, true);
  assert.equal(err.details.errno, 'ECONNREFUSED');
  assert.equal(isConnectPhaseError(err), true);
});

test('transport errors: a server that never answers is a TIMEOUT after the request was sent (not connect phase)', async (t) => {
  const server = createServer(() => {
    // Never answer.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const started = Date.now();
  const err = await httpRequest(
    `http://127.0.0.1:${port}/webhdfs/v1/x?op=RENAME`,
    { method: 'PUT', timeouts: { connectMs: 1000, responseMs: 200, idleMs: 5000 } },
    ctx,
  ).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PipelineError);
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.retryable, true);
  assert.equal(err.details.timeout, 'response');
  assert.equal(isConnectPhaseError(err), false, 'the server may have acted: not safe to fail over blindly');
  assert.ok(Date.now() - started < 3000);
});

test('transport errors: an aborted signal always gives ABORTED', async () => {
  const controller = new AbortController();
  controller.abort();
  const err = await httpRequest('http://127.0.0.1:1/', { method: 'GET', timeouts: DEFAULT_TIMEOUTS, signal: controller.signal }, ctx).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PipelineError);
  assert.equal(err.code, 'ABORTED');
  // And the mapper itself prefers the signal over whatever socket error the abort caused.
  assert.equal(transportError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), ctx, controller.signal).code, 'ABORTED');
});

test('transportError: resets are NETWORK, HTTP parse errors BAD_RESPONSE, a failing body stream keeps its own class', () => {
  const reset = transportError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), ctx);
  assert.equal(reset.code, 'NETWORK');
  assert.equal(isConnectPhaseError(reset), false);
  assert.equal(transportError(Object.assign(new Error('bad'), { code: 'HPE_INVALID_CONSTANT' }), ctx).code, 'BAD_RESPONSE');
  const upload = Object.assign(new Error('upload'), { name: 'UploadError', cause: new PipelineError('INVALID_INPUT', 'bad record') });
  assert.equal(transportError(upload, ctx).code, 'INVALID_INPUT');
  const unknown = transportError(new TypeError('boom'), ctx);
  assert.equal(unknown.code, 'INTERNAL');
  assert.equal(unknown.retryable, false);
});

test('answer parsers: FileStatus, FileStatuses, boolean; unknown shapes give undefined', () => {
  const dir = {
    accessTime: 0, blockSize: 0, childrenNum: 2, fileId: 16386, group: 'supergroup', length: 0,
    modificationTime: 1700000000000, owner: 'root', pathSuffix: '', permission: '755', replication: 0,
    storagePolicy: 0, type: 'DIRECTORY',
  };
  const file = { ...dir, type: 'FILE', pathSuffix: 'a.log', length: 42, blockSize: 134217728, replication: 1, childrenNum: 0 };
  const st = parseGetFileStatus({ FileStatus: dir });
  assert.equal(st?.type, 'DIRECTORY');
  assert.equal(st?.childrenNum, 2);
  assert.equal(st?.fileId, 16386);
  assert.equal('storagePolicy' in (st ?? {}), false, 'only the typed fields are kept');
  const list = parseListStatus({ FileStatuses: { FileStatus: [file, { ...file, pathSuffix: 'b.log' }] } });
  assert.deepEqual(list?.map((s) => [s.pathSuffix, s.length, s.type]), [['a.log', 42, 'FILE'], ['b.log', 42, 'FILE']]);
  assert.deepEqual(parseListStatus({ FileStatuses: { FileStatus: [] } }), []);
  assert.equal(parseListStatus({ FileStatuses: { FileStatus: [file, { ...file, type: 'SOCKET' }] } }), undefined);
  assert.equal(parseGetFileStatus({ FileStatus: { ...file, length: '42' } }), undefined);
  assert.equal(parseGetFileStatus({}), undefined);
  assert.equal(parseBooleanAnswer({ boolean: false }), false);
  assert.equal(parseBooleanAnswer({ boolean: 'true' }), undefined);
  assert.deepEqual(parseJson(Buffer.from('{"a":1}')), { a: 1 });
  assert.equal(parseJson(Buffer.from('<html>')), undefined);
});

test('regression: a DataNode that cannot reach a stopped NameNode answers 403 EOFException; that is retryable, not a refusal', () => {
  const body = remoteBody('EOFException', 'java.io.EOFException', 'End of File Exception between local host is: "vm/127.0.0.1"; destination host is: "localhost":8020');
  const err = webHdfsHttpError(403, body, { ...ctx, step: 'datanode' });
  assert.equal(err.code, 'UNAVAILABLE');
  assert.equal(err.retryable, true);
  const refused = webHdfsHttpError(403, remoteBody('ConnectException', 'java.net.ConnectException', 'Connection refused'), { ...ctx, step: 'datanode' });
  assert.equal(refused.retryable, true);
  const reset = webHdfsHttpError(403, remoteBody('SocketException', 'java.net.SocketException', 'Connection reset'), { ...ctx, step: 'datanode' });
  assert.equal(reset.retryable, true);
});
