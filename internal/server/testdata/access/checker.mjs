// Independent checkers for the access tests, one request per input line, one JSON
// answer per output line (so one process serves a whole test):
//   {"op":"sign", method, url, headers (lower-case names), body, alg (ed25519 |
//    hmac-sha256), key (PKCS#8 PEM, or base64 secret), keyid, nonce, created, fields}
//     signs per RFC 9421 with the http-message-signatures library and adds an RFC 9530
//     Content-Digest made with Node's own crypto; answers {"headers": {...}}.
//   {"op":"verify-jwt", issuer, token}
//     verifies an RFC 9068 access token against the issuer's published JWKS with jose;
//     answers {"ok": true, "payload": {...}} or {"ok": false, "error": "..."}.
import { createHash, createPrivateKey } from 'node:crypto';
import { createInterface } from 'node:readline';
import { httpbis, createSigner } from 'http-message-signatures';
import { createRemoteJWKSet, jwtVerify } from 'jose';

async function sign(req) {
  const headers = { ...req.headers };
  if (req.body) {
    headers['content-digest'] = 'sha-256=:' + createHash('sha256').update(req.body).digest('base64') + ':';
  }
  const key = req.alg === 'ed25519' ? createPrivateKey(req.key) : Buffer.from(req.key, 'base64');
  const signed = await httpbis.signMessage({
    key: createSigner(key, req.alg, req.keyid),
    name: 'sig1',
    fields: req.fields,
    params: ['created', 'keyid', 'nonce', 'alg'],
    paramValues: { created: new Date(req.created * 1000), nonce: req.nonce },
  }, { method: req.method, url: req.url, headers });
  return { headers: signed.headers };
}

async function verifyJWT(req) {
  const jwks = createRemoteJWKSet(new URL(req.issuer + '/.well-known/jwks.json'));
  try {
    const { payload } = await jwtVerify(req.token, jwks, {
      issuer: req.issuer,
      audience: req.issuer + '/v1',
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
    });
    return { ok: true, payload };
  } catch (e) {
    return { ok: false, error: String((e && e.code) || e) };
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line);
  const out = req.op === 'sign' ? await sign(req) : await verifyJWT(req);
  process.stdout.write(JSON.stringify(out) + '\n');
}
