// jsforce scenarios for tests/clients/test_jsforce.py: node jsforce.js '<json config>'.
// Prints one JSON line with what the client ended up with; the Python test asserts it.
'use strict';
const jsforce = require('jsforce');

const cfg = JSON.parse(process.argv[2]);
const version = '60.0';
const oauth2 = { loginUrl: cfg.url, clientId: cfg.clientId, clientSecret: cfg.clientSecret,
                 redirectUri: cfg.redirectUri };

async function whoAmI(conn) {
  const users = await conn.query(`SELECT Id, Username FROM User WHERE Id = '${conn.userInfo.id}'`);
  return { accessToken: conn.accessToken, instanceUrl: conn.instanceUrl,
           userId: conn.userInfo.id, orgId: conn.userInfo.organizationId,
           username: users.records.map((r) => r.Username)[0] };
}

const scenarios = {
  // conn.login() without a client secret: SOAP login() (clients.md §2).
  async soapLogin() {
    const conn = new jsforce.Connection({ loginUrl: cfg.url, version });
    await conn.login(cfg.username, cfg.password + cfg.securityToken);
    return whoAmI(conn);
  },
  // conn.login() with clientId and clientSecret: the OAuth password grant.
  async passwordLogin() {
    const conn = new jsforce.Connection({ oauth2, version });
    await conn.login(cfg.username, cfg.password + cfg.securityToken);
    return whoAmI(conn);
  },
  // A revoked access token: the next call gets 401, jsforce refreshes and retries.
  async refreshOn401() {
    const conn = new jsforce.Connection({ oauth2, version, instanceUrl: cfg.instanceUrl,
                                          accessToken: cfg.accessToken,
                                          refreshToken: cfg.refreshToken });
    let refreshedTo = null;
    conn.on('refresh', (token) => { refreshedTo = token; });
    const result = await conn.query('SELECT Id FROM User');
    return { refreshedTo, accessToken: conn.accessToken, totalSize: result.totalSize };
  },
  async identity() {
    const conn = new jsforce.Connection({ oauth2, version });
    await conn.login(cfg.username, cfg.password + cfg.securityToken);
    const id = await conn.identity();
    return { user_id: id.user_id, organization_id: id.organization_id, username: id.username,
             id: id.id, userInfo: conn.userInfo };
  },
};

scenarios[cfg.scenario]().then(
  (out) => { console.log(JSON.stringify(out)); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
