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
  // Connection#search: GET /search?q=<SOSL>, the body as is.
  async search() {
    const found = await conn.search(cfg.sosl);
    let error = null;
    try {
      await conn.search('FIND {acme} RETURNING');
    } catch (err) {
      error = errorOf(err);
    }
    return { found, error };
  },
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
  // A parent named by its external id in the body (REST "Account": {"Ref__c": ...}).
  async parentReference() {
    const account = await conn.sobject('Account').create({ Name: 'Js Parent', Ref__c: 'JS-1' });
    const contact = await conn.sobject('Contact').create({ LastName: 'Js Child',
                                                           Account: { Ref__c: 'JS-1' } });
    const got = await conn.sobject('Contact').retrieve(contact.id);
    return { account: account.id, accountIdOfContact: got.AccountId };
  },
  // Product, standard price, opportunity and two line items; then the rolled-up opportunity.
  async lineItems() {
    const book = (await conn.query('SELECT Id FROM Pricebook2 WHERE IsStandard = true'))
      .records[0].Id;
    const product = await conn.sobject('Product2').create({ Name: 'Js Widget', ProductCode: 'JS' });
    const entry = await conn.sobject('PricebookEntry').create({
      Pricebook2Id: book, Product2Id: product.id, UnitPrice: 50, IsActive: true });
    const opportunity = await conn.sobject('Opportunity').create({
      Name: 'Js Deal', StageName: 'Closed Won', CloseDate: '2026-12-31' });
    const items = await conn.sobject('OpportunityLineItem').create([
      { OpportunityId: opportunity.id, PricebookEntryId: entry.id, Quantity: 1 },
      { OpportunityId: opportunity.id, PricebookEntryId: entry.id, Quantity: 4, UnitPrice: 45 },
    ], { allOrNone: true });
    const deal = (await conn.query(
      'SELECT Amount, IsWon, (SELECT Quantity, TotalPrice FROM OpportunityLineItems ' +
      `ORDER BY Quantity) FROM Opportunity WHERE Id = '${opportunity.id}'`)).records[0];
    return { items: items.map((r) => r.success), amount: deal.Amount, isWon: deal.IsWon,
             lines: deal.OpportunityLineItems.records.map((r) => [r.Quantity, r.TotalPrice]) };
  },
};

scenarios[cfg.scenario]().then(
  (out) => { console.log(JSON.stringify(out)); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
