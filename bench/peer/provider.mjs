// The peer for `make bench`: panva/oidc-provider in one Node process, configured as in
// shared/research/perf-baseline.md — one confidential client (client_secret_basic) with the
// client_credentials grant, opaque access tokens in the default in-memory adapter, and RFC 7662
// introspection. Listens on 127.0.0.1 only. Run with NODE_ENV=production from bench/.peer/.
//
//   PEER_PORT=3000 PEER_CLIENT_ID=svc PEER_CLIENT_SECRET=... node provider.mjs
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PEER_PORT || 3000);
const clientId = process.env.PEER_CLIENT_ID || 'svc';
const clientSecret = process.env.PEER_CLIENT_SECRET;
if (!clientSecret) throw new Error('PEER_CLIENT_SECRET is required');

// A signing key of our own, so the provider does not fall back to its development keys.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'read write',
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['read', 'write'],
  jwks: { keys: [jwk] },
  cookies: { keys: [clientSecret] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
  },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`peer listening on http://127.0.0.1:${port}`);
});
// Stop cleanly when the harness stops us.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
