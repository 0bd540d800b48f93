// jsforce data scenarios for tests/clients/test_data_jsforce.py: node jsforce_data.js '<json>'.
// Prints one JSON line with what the client returned; the Python test asserts it.
'use strict';
const jsforce = require('jsforce');

const cfg = JSON.parse(process.argv[2]);
const conn = new jsforce.Connection({ instanceUrl: cfg.instanceUrl, accessToken: cfg.accessToken,
                                      version: '60.0' });

function errorOf(err) {
  return { name: err.name, errorCode: err.errorCode, message: err.message };
}

const scenarios = {
  // Query#run with autoFetch follows nextRecordsUrl (only its last segment, clients.md §2).
  async autoFetch() {
    let pages = 0;
    const query = conn.query(cfg.soql).on('fetch', () => { pages += 1; });  // one per request
    const result = await query.run({ autoFetch: true, maxFetch: 100000 });
    return { totalSize: result.totalSize, done: result.done, pages,
             names: result.records.map((r) => r.Name) };
  },
  async crud() {
    const accounts = conn.sobject('Account');
    const created = await accounts.create({ Name: 'Jsforce Co', Industry: 'Energy' });
    const retrieved = await accounts.retrieve(created.id);
    const updated = await accounts.update({ Id: created.id, Industry: 'Media' });
    const after = await accounts.retrieve(created.id);
    const destroyed = await accounts.destroy(created.id);
    let missing = null;
    try {
      await accounts.retrieve(created.id);
    } catch (err) {
      missing = errorOf(err);
    }
    return { created, retrieved: { Id: retrieved.Id, Name: retrieved.Name,
                                   Industry: retrieved.Industry, type: retrieved.attributes.type },
             updated, industryAfter: after.Industry, destroyed, missing };
  },
};

scenarios[cfg.scenario]().then(
  (out) => { console.log(JSON.stringify(out)); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
