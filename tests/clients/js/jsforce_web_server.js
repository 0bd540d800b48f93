// jsforce's OAuth2 web-server flow with PKCE (useVerifier), for test_browser_clients_jsforce.py.
// node jsforce_web_server.js '<json config>': prints {"authorizationUrl"} and reads the
// callback URL the (scripted) browser reached on stdin; then conn.authorize(code) and a query.
'use strict';
const jsforce = require('jsforce');
const readline = require('readline');

const cfg = JSON.parse(process.argv[2]);
const oauth2 = new jsforce.OAuth2({ loginUrl: cfg.url, clientId: cfg.clientId,
                                    clientSecret: cfg.clientSecret || undefined,
                                    redirectUri: cfg.redirectUri, useVerifier: true });

async function main() {
  const url = oauth2.getAuthorizationUrl({ scope: cfg.scope, state: cfg.state });
  console.log(JSON.stringify({ authorizationUrl: url, verifierLength: oauth2.codeVerifier.length }));
  const lines = readline.createInterface({ input: process.stdin });
  const callback = new URL((await lines[Symbol.asyncIterator]().next()).value);
  lines.close();
  if (callback.searchParams.get('state') !== cfg.state) throw new Error('state mismatch');
  const conn = new jsforce.Connection({ oauth2, version: '60.0' });
  const userInfo = await conn.authorize(callback.searchParams.get('code'));
  const result = await conn.query('SELECT Id, Username FROM User');
  return { userInfo, instanceUrl: conn.instanceUrl, hasRefreshToken: !!conn.refreshToken,
           usernames: result.records.map((r) => r.Username) };
}

main().then(
  (out) => { console.log(JSON.stringify(out)); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
