// jsforce Bulk API scenarios for tests/clients/test_bulk_jsforce.py: node jsforce_bulk.js '<json>'.
// Prints one JSON line with what the client returned; the Python test asserts it.
'use strict';
const jsforce = require('jsforce');

const cfg = JSON.parse(process.argv[2]);
const conn = new jsforce.Connection({ instanceUrl: cfg.instanceUrl, accessToken: cfg.accessToken,
                                      version: '60.0' });
conn.bulk2.pollInterval = 200;
conn.bulk2.pollTimeout = 60000;
conn.bulk.pollInterval = 200;
conn.bulk.pollTimeout = 60000;

const scenarios = {
  // BulkV2#loadAndWaitForResults: create, upload (CSV stream), close, poll, all results.
  async bulk2Load() {
    const input = cfg.names.map((name, n) => ({ Name: name, NumberOfEmployees: n }));
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account', operation: 'insert', input });
    return { successful: results.successfulResults.map((r) => [r.sf__Created, r.Name]),
             failed: results.failedResults.map((r) => [r.sf__Error, r.Name]),
             unprocessed: results.unprocessedRecords.length };
  },
  // BulkV2#query: a query job, polled, its CSV result pages followed by Sforce-Locator.
  async bulk2Query() {
    const stream = await conn.bulk2.query(cfg.soql);
    const records = await stream.toArray();
    return { count: records.length, first: records[0], last: records[records.length - 1] };
  },
  // Bulk (1.0)#load: an XML job, one CSV batch, polled, its CSV results; then the job closed.
  async bulkLoad() {
    const records = cfg.names.map((name) => ({ Name: name, Site: 'bulk1js' }));
    const results = await conn.bulk.load('Account', 'insert', records);
    return { results: results.map((r) => [r.success, r.created, r.errors, !!r.id]) };
  },
  // Bulk (1.0)#load with 'hardDelete': records of Ids, their results.
  async bulkHardDelete() {
    const results = await conn.bulk.load('Account', 'hardDelete', cfg.ids.map((Id) => ({ Id })));
    return { results: results.map((r) => [r.id || null, r.success, r.errors]) };
  },
};

scenarios[cfg.scenario]().then(
  (out) => { console.log(JSON.stringify(out)); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
