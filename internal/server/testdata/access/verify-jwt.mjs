// Verifies an RFC 9068 access token against the server's published JWKS with jose, an
// implementation independent of the server's. Usage: node verify-jwt.mjs ISSUER TOKEN
// Prints the payload as JSON on success; exits 1 with the reason otherwise.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, token] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(issuer + '/.well-known/jwks.json'));
try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience: issuer + '/v1',
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
  });
  console.log(JSON.stringify({ header: protectedHeader, payload }));
} catch (e) {
  console.error(String(e && e.code || e));
  process.exit(1);
}
